"""Opaque paging cursors: the sort values of a page's last hit, as URL-safe base64 JSON. Both backends
page the same way, so a cursor's shape and its errors are the same whichever store answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from vocmine.errors import ConfigError


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError("malformed cursor", hint="pass the next_cursor value of the previous page unchanged") from exc
    if not isinstance(values, list) or len(values) != length:
        raise ConfigError("cursor does not belong to this query", hint="start again without a cursor")
    return values

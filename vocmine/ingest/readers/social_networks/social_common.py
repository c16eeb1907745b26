"""Small helpers the social-network and review readers share (``social_networks`` lists them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vocmine.ingest.records import parse_timestamp


def parse_time(value: Any) -> datetime | None:
    """``parse_timestamp``, with an epoch number past what the platform's clock holds (a corrupt
    "created_utc": 1e22) reported as the ValueError readers turn into a rejection, like any other
    unreadable time."""
    try:
        return parse_timestamp(value)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time stamp out of range: {str(value)[:40]!r}") from exc


def dict_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return "" if value is None else str(value)

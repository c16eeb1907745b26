"""Time zones for bucketing: a day, week or month of a trend starts at midnight where the reader is.

Stores keep every time in UTC; a trend asked for in a time zone buckets each conversation by its
start in *local* time (``local_seconds``): UTC seconds plus the zone's offset at that moment, so
summer and winter time each get their own offset. The zone is an IANA name (``Europe/London``);
``None`` or "UTC" is UTC, and buckets then start at UTC midnight as before.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from vocmine.errors import ConfigError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_STEP = 900  # offsets are looked up per quarter hour: every zone's changes fall on one


@lru_cache(maxsize=64)  # the SQL function asks once per row
def zone(name: str | None) -> ZoneInfo | None:
    """The zone named, or None for UTC; ConfigError naming the value for an unknown one."""
    if name is None or name.strip().upper() in ("UTC", "Z", "ETC/UTC"):
        return None
    cleaned = name.strip()
    try:
        if not _NAME.fullmatch(cleaned):
            raise ValueError(cleaned)
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}", hint="give an IANA time zone name, e.g. Europe/London or America/New_York"
        ) from exc


def zone_name(tz: ZoneInfo | None) -> str | None:
    return None if tz is None else tz.key


def offset_seconds(epoch: float, tz: ZoneInfo) -> float:
    offset = datetime.fromtimestamp(epoch, tz=UTC).astimezone(tz).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def local_seconds(epochs: np.ndarray, tz: ZoneInfo | None) -> np.ndarray:
    """UTC seconds since 1970 → the same moments on the zone's wall clock (still seconds since 1970),
    for bucketing by local day. One zone lookup per distinct quarter hour, not per conversation."""
    if tz is None or len(epochs) == 0:
        return epochs
    steps = np.floor(epochs / _STEP).astype(np.int64)
    distinct, inverse = np.unique(steps, return_inverse=True)
    offsets = np.array([offset_seconds(float(s) * _STEP, tz) for s in distinct], dtype=np.float64)
    return epochs + offsets[inverse]


def local_epoch(epoch: float | None, name: str) -> float | None:
    """``local_seconds`` for one value, as the SQL function ``vocmine_local(epoch, zone)``."""
    if epoch is None:
        return None
    tz = zone(name)
    return epoch if tz is None else epoch + offset_seconds(epoch, tz)

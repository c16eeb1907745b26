"""Theme trends: per theme and time bucket (and breakdown group), volume, share of conversations,
mean sentiment and negative share.

* volume – conversations with at least one customer segment in the theme;
* share – volume / analysed conversations in the same bucket and group;
* mean sentiment – mean score (−1…1) of the theme's segments;
* negative share – the theme's segments labelled negative / its segments.

Every bucket from the first to the last (the first and last with conversations, widened to the
filter's ``since`` and ``until``) has a point for every theme, with zeros where nothing was said
(even when no conversation at all fell in it), so a chart's line does not skip a quiet week. A
bucket the data cannot fill is marked ``partial``: it starts before ``since``, ends after
``until``, or has not ended yet, so a chart does not read a half week as a drop. Buckets are
days, weeks (from Monday) or months starting at midnight in the reader's time zone (``tz``; UTC by
default): the stores bucket in that zone too (``vocmine.store.zones``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vocmine.schema import as_utc
from vocmine.store.query import ConversationTotal, ThemeAggregate


@dataclass(frozen=True)
class TrendPoint:
    theme_id: str
    bucket: str | None
    group: str | None
    conversations: int
    total_conversations: int
    share: float
    segments: int
    mean_sentiment: float | None
    negative_share: float | None
    partial: bool = False  # the bucket reaches past the filter's range, or has not ended yet


def theme_trends(
    aggregates: list[ThemeAggregate],
    totals: list[ConversationTotal],
    interval: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
) -> list[TrendPoint]:
    denominators = {(t.bucket, t.group): t.conversations for t in totals}
    found = {(a.theme_id, a.bucket, a.group): a for a in aggregates}
    themes = sorted({a.theme_id for a in aggregates})
    groups = sorted({t.group for t in totals} | {a.group for a in aggregates}, key=lambda g: (g is None, g or ""))
    if not interval:
        return [
            _point(t, None, g, found.get((t, None, g)), denominators.get((None, g), 0)) for t in themes for g in groups
        ]
    since, until, now = as_utc(since), as_utc(until), as_utc(now)
    seen = [t.bucket for t in totals if t.bucket]
    # until is exclusive: the last bucket is the one holding the moment just before it.
    last = until - timedelta(microseconds=1) if until else None
    ends = [
        bucket_start(moment.astimezone(tz or UTC).date(), interval).isoformat()
        for moment in (since, last)
        if moment and seen
    ]
    buckets = bucket_range(seen + ends, interval)
    points = []
    for theme in themes:
        for bucket in buckets:
            partial = _partial(date.fromisoformat(bucket), interval, since, until, now, tz)
            for group in groups:
                total = denominators.get((bucket, group), 0)
                points.append(_point(theme, bucket, group, found.get((theme, bucket, group)), total, partial))
    return points


def _partial(
    start: date,
    interval: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime | None,
    tz: ZoneInfo | None = None,
) -> bool:
    begins, ends = _midnight(start, tz), _midnight(next_bucket(start, interval), tz)
    return bool((since and since > begins) or (until and until < ends) or (now and now < ends))


def _midnight(day: date, tz: ZoneInfo | None) -> datetime:
    """The moment ``day`` begins in ``tz`` (UTC when None), as a UTC time."""
    return datetime.combine(day, time(), tzinfo=tz or UTC).astimezone(UTC)


def bucket_start(day: date, interval: str) -> date:
    """The first day of the bucket holding ``day``."""
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def _point(
    theme: str, bucket: str | None, group: str | None, a: ThemeAggregate | None, total: int, partial: bool = False
) -> TrendPoint:
    if a is None:
        return TrendPoint(theme, bucket, group, 0, total, 0.0, 0, None, None, partial)
    return TrendPoint(
        theme_id=theme,
        bucket=bucket,
        group=group,
        conversations=a.conversations,
        total_conversations=total,
        share=a.conversations / total if total else 0.0,
        segments=a.segments,
        mean_sentiment=a.sentiment_sum / a.segments if a.segments else None,
        negative_share=a.negative_segments / a.segments if a.segments else None,
        partial=partial,
    )


def bucket_range(buckets: list[str], interval: str | None) -> list[str]:
    """Every bucket start from the first to the last given, in order."""
    if not buckets:
        return []
    first, last = min(buckets), max(buckets)
    out, current = [], date.fromisoformat(first)
    end = date.fromisoformat(last)
    while current <= end:
        out.append(current.isoformat())
        current = next_bucket(current, interval)
    return out


def next_bucket(current: date, interval: str | None) -> date:
    if interval == "day":
        return current + timedelta(days=1)
    if interval == "week":
        return current + timedelta(days=7)
    if interval == "month":
        return (current.replace(day=1) + timedelta(days=32)).replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def series(points: list[TrendPoint], theme_id: str, group: str | None = None) -> list[TrendPoint]:
    """One theme's points in bucket order (for one group)."""
    return sorted((p for p in points if p.theme_id == theme_id and p.group == group), key=lambda p: p.bucket or "")

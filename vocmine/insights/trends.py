"""Theme trends: per theme and time bucket (and breakdown group), volume, share of conversations,
mean sentiment and negative share.

* volume – conversations with at least one customer segment in the theme;
* share – volume / analysed conversations in the same bucket and group;
* mean sentiment – mean score (−1…1) of the theme's segments;
* negative share – the theme's segments labelled negative / its segments.

Buckets with no mention of a theme are filled with zeros between the first and the last bucket
that has conversations, so a chart's line does not skip a quiet week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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


def theme_trends(
    aggregates: list[ThemeAggregate], totals: list[ConversationTotal], interval: str | None = None
) -> list[TrendPoint]:
    denominators = {(t.bucket, t.group): t.conversations for t in totals}
    found = {(a.theme_id, a.bucket, a.group): a for a in aggregates}
    themes = sorted({a.theme_id for a in aggregates})
    groups = sorted({t.group for t in totals} | {a.group for a in aggregates}, key=lambda g: (g is None, g or ""))
    buckets = bucket_range([t.bucket for t in totals if t.bucket], interval) if interval else [None]
    points = []
    for theme in themes:
        for bucket in buckets:
            for group in groups:
                total = denominators.get((bucket, group), 0)
                a = found.get((theme, bucket, group))
                if a is None and total == 0:
                    continue
                points.append(_point(theme, bucket, group, a, total))
    return points


def _point(theme: str, bucket: str | None, group: str | None, a: ThemeAggregate | None, total: int) -> TrendPoint:
    if a is None:
        return TrendPoint(theme, bucket, group, 0, total, 0.0, 0, None, None)
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

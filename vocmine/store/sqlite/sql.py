"""SQL helpers that the embedded store and its mixins share: a filter as a WHERE clause, epoch
seconds back to datetimes, and batching of long IN lists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from vocmine.store.columns import epoch_seconds
from vocmine.store.query import CONVERSATION_FIELD_FILTERS, ConversationFilter


def where_clause(f: ConversationFilter) -> tuple[str, list[Any]]:
    clauses, params = ["1=1"], []
    for field, column in CONVERSATION_FIELD_FILTERS.items():
        values = getattr(f, field)
        if values:
            clauses.append(f"c.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if f.since:
        clauses.append("c.started_at >= ?")
        params.append(epoch_seconds(f.since))
    if f.until:
        clauses.append("c.started_at < ?")
        params.append(epoch_seconds(f.until))
    for field, column in (("sentiments", "sentiment_label"), ("stages", "stage"), ("trajectories", "trajectory")):
        values = getattr(f, field)
        if values:
            clauses.append(
                f"c.id IN (SELECT conversation_id FROM analyses WHERE {column} IN ({','.join('?' * len(values))}))"
            )
            params.extend(values)
    if f.signals:
        marks = ",".join("?" * len(f.signals))
        clauses.append(f"c.id IN (SELECT conversation_id FROM conversation_flags WHERE signal IN ({marks}))")
        params.extend(f.signals)
    if f.min_severity is not None:
        clauses.append("c.id IN (SELECT conversation_id FROM analyses WHERE max_severity >= ?)")
        params.append(f.min_severity)
    if f.themes:
        marks = ",".join("?" * len(f.themes))
        clauses.append(f"c.id IN (SELECT conversation_id FROM segments WHERE theme_id IN ({marks}))")
        params.extend(f.themes)
    return " AND ".join(clauses), params


def from_epoch(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def statements(script: str | list[str]) -> list[str]:
    if isinstance(script, list):
        return script
    return [s.strip() for s in script.split(";") if s.strip()]

"""Themes in the embedded store: the catalog and analysts' edits (migration 4), segment assignment,
and the aggregations behind trends, emerging themes, priorities and drivers. Mixed into
``SQLiteStore``.

Aggregations count per (conversation, theme) first, so a conversation that mentions a theme in
three segments counts once in that theme's conversations and three times in its segments.
Conversations without a start time fall outside every time bucket; they still count when no
interval is asked for.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.errors import ConfigError, NotFoundError
from vocmine.schema import Theme, utcnow
from vocmine.store.columns import FactSnapshot
from vocmine.store.query import (
    AgentAggregate,
    AgentGrouping,
    Breakdown,
    ConversationFilter,
    ConversationTotal,
    Interval,
    ScoreTotal,
    SurveyTable,
    SurveyThemes,
    ThemeAggregate,
    mapped_themes,
)
from vocmine.store.sqlite.tx import immediate
from vocmine.store.zones import zone


def bucket_sql(interval: Interval, tz: str | None) -> str:
    """The SQL of a conversation's bucket (its first day), at midnight in ``tz`` (``zones.py``). The
    zone's name is checked by ``zone`` before it is written into the SQL as a literal."""
    started = "c.started_at" if zone(tz) is None else f"vocmine_local(c.started_at, '{tz}')"
    return BUCKETS[interval].replace("c.started_at", started)


BUCKETS: dict[str, str] = {
    "day": "strftime('%Y-%m-%d', c.started_at, 'unixepoch')",
    # SQLite's 'weekday 1' moves forward to a Monday; from six days earlier that is the week's Monday.
    "week": "date(c.started_at, 'unixepoch', '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m-01', c.started_at, 'unixepoch')",
}
GROUPS: dict[str, str] = {
    "channel": "c.channel",
    "stage": "a.stage",
    "brand": "c.brand",
    "product": "c.product",
    "agent": "c.agent_id",
    "team": "c.team_id",
}


if TYPE_CHECKING:
    from vocmine.store.sqlite.host import SQLiteHost as _Host
else:
    _Host = object


class SQLiteThemesMixin(_Host):
    """Needs ``conn``, ``_lock`` and ``_where_sql`` from the store it is mixed into."""

    def _snapshot(self, f: ConversationFilter) -> FactSnapshot | None:
        """The in-memory columns when serving has prepared them and they can answer this filter;
        None means: answer in SQL (same results, slower)."""
        if self._facts is None or not FactSnapshot.servable(f):
            return None
        return self._facts.snapshot()

    # ------------------------------------------------------------ fit input and assignment

    def iter_segment_texts(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
        where, params = self._where_sql(filter or ConversationFilter())
        last = 0
        while True:
            with self._lock:
                rows = self.conn.execute(
                    "SELECT s.rowid, s.id, s.text, s.vector FROM segments s JOIN conversations c "
                    f"ON c.id = s.conversation_id WHERE s.rowid > ? AND s.vector IS NOT NULL AND {where} "
                    "ORDER BY s.rowid LIMIT ?",
                    [last, *params, batch_size],
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield (
                [r[1] for r in rows],
                [r[2] for r in rows],
                np.stack([np.frombuffer(r[3], dtype=np.float32) for r in rows]),
            )

    def assign_themes(self, assignments: Iterable[tuple[str, str | None]]) -> int:
        found = 0
        with self._lock, immediate(self.conn) as conn:
            for segment_id, theme_id in assignments:
                found += conn.execute("UPDATE segments SET theme_id = ? WHERE id = ?", (theme_id, segment_id)).rowcount
        return found

    # ------------------------------------------------------------ catalog and curation

    def replace_themes(self, themes: Sequence[Theme], version: str) -> None:
        now = utcnow().isoformat()
        with self._lock, immediate(self.conn) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO themes VALUES (?, ?, ?, ?, ?)",
                [(t.id, t.status, t.merged_into, t.model_dump_json(), now) for t in themes],
            )
            conn.execute("INSERT OR REPLACE INTO theme_state VALUES ('version', ?)", (version,))

    def list_themes(self) -> list[Theme]:
        with self._reading() as conn:
            rows = conn.execute("SELECT doc FROM themes ORDER BY id").fetchall()
        return [Theme.model_validate_json(r[0]) for r in rows]

    def themes_version(self) -> str | None:
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM theme_state WHERE key = 'version'").fetchone()
        return row[0] if row else None

    def _theme(self, conn: sqlite3.Connection, theme_id: str) -> Theme:
        row = conn.execute("SELECT doc FROM themes WHERE id = ?", (theme_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no theme {theme_id!r}", hint="list the ids with `vocmine themes list`")
        return Theme.model_validate_json(row[0])

    def _save_theme(
        self, conn: sqlite3.Connection, theme: Theme, actor: str, action: str, detail: dict[str, Any]
    ) -> None:
        now = utcnow().isoformat()
        conn.execute(
            "UPDATE themes SET status = ?, merged_into = ?, doc = ?, updated_at = ? WHERE id = ?",
            (theme.status, theme.merged_into, theme.model_dump_json(), now, theme.id),
        )
        conn.execute(
            "INSERT INTO theme_events VALUES (?, ?, ?, ?, ?)", (now, actor, action, theme.id, json.dumps(detail))
        )

    def rename_theme(self, theme_id: str, name: str, actor: str) -> Theme:
        name = name.strip()
        if not name:
            raise ConfigError("a theme's name cannot be empty", hint="give the new name")
        with self._lock, immediate(self.conn) as conn:
            theme = self._theme(conn, theme_id)
            renamed = theme.model_copy(update={"name": name})
            self._save_theme(conn, renamed, actor, "rename", {"from": theme.name, "to": name})
        return renamed

    def merge_themes(self, sources: Sequence[str], target: str, actor: str) -> Theme:
        if not sources:
            raise ConfigError("nothing to merge", hint="name at least one theme to merge into the target")
        if target in sources:
            raise ConfigError(f"cannot merge {target} into itself", hint="leave the target out of the sources")
        with self._lock, immediate(self.conn) as conn:
            into = self._theme(conn, target)
            if into.status != "active":
                raise ConfigError(f"theme {target} is {into.status}", hint="merge into an active theme")
            size = into.size
            for source in sources:
                theme = self._theme(conn, source)
                size += theme.size
                merged = theme.model_copy(update={"status": "merged", "merged_into": target})
                self._save_theme(conn, merged, actor, "merge", {"into": target})
                conn.execute("UPDATE segments SET theme_id = ? WHERE theme_id = ?", (target, source))
                # Themes merged earlier into the source now point at the target directly.
                for (doc,) in conn.execute("SELECT doc FROM themes WHERE merged_into = ?", (source,)).fetchall():
                    earlier = Theme.model_validate_json(doc).model_copy(update={"merged_into": target})
                    self._save_theme(conn, earlier, actor, "merge", {"into": target, "via": source})
            grown = into.model_copy(update={"size": size})
            self._save_theme(conn, grown, actor, "absorb", {"sources": list(sources)})
        return grown

    def theme_events(self, theme_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT at, actor, action, theme_id, detail FROM theme_events", []
        if theme_id:
            sql, params = sql + " WHERE theme_id = ?", [theme_id]
        with self._lock:
            rows = self.conn.execute(sql + " ORDER BY rowid", params).fetchall()
        return [{"at": r[0], "actor": r[1], "action": r[2], "theme_id": r[3], "detail": json.loads(r[4])} for r in rows]

    # ------------------------------------------------------------ aggregations

    def theme_aggregates(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        theme_map: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> list[ThemeAggregate]:
        f = filter or ConversationFilter()
        if snapshot := self._snapshot(f):
            return snapshot.theme_aggregates(f, interval, breakdown, theme_map, tz)
        where, params = self._where_sql(f)
        bucket = bucket_sql(interval, tz) if interval else "NULL"
        group = GROUPS[breakdown] if breakdown else "NULL"
        reported, map_params = _reported_theme(theme_map)
        sql = (
            f"WITH per AS (SELECT conversation_id AS cid, {reported} AS tid, COUNT(*) AS n, "
            "SUM(sentiment_score) AS score, SUM(sentiment_label = 'negative') AS negative "
            "FROM segments WHERE theme_id IS NOT NULL GROUP BY conversation_id, tid) "
            f"SELECT per.tid, {bucket} AS bucket, {group} AS grp, COUNT(*), SUM(per.n), SUM(per.score), "
            "SUM(per.negative), SUM(a.max_severity > 0), SUM(a.max_severity) "
            "FROM per JOIN conversations c ON c.id = per.cid JOIN analyses a ON a.conversation_id = per.cid "
            f"WHERE {where} {'AND c.started_at IS NOT NULL' if interval else ''} "
            "AND per.tid IS NOT NULL GROUP BY per.tid, bucket, grp ORDER BY bucket, per.tid, grp"
        )
        with self._lock:
            rows = self.conn.execute(sql, [*map_params, *params]).fetchall()
        return [
            ThemeAggregate(
                theme_id=r[0],
                bucket=r[1],
                group=r[2],
                conversations=r[3],
                segments=r[4],
                sentiment_sum=float(r[5] or 0.0),
                negative_segments=r[6] or 0,
                flagged_conversations=r[7] or 0,
                severity_sum=r[8] or 0,
            )
            for r in rows
        ]

    def conversation_totals(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        tz: str | None = None,
    ) -> list[ConversationTotal]:
        f = filter or ConversationFilter()
        if snapshot := self._snapshot(f):
            return snapshot.conversation_totals(f, interval, breakdown, tz)
        where, params = self._where_sql(f)
        bucket = bucket_sql(interval, tz) if interval else "NULL"
        group = GROUPS[breakdown] if breakdown else "NULL"
        sql = (
            f"SELECT {bucket} AS bucket, {group} AS grp, COUNT(*) FROM conversations c "
            f"JOIN analyses a ON a.conversation_id = c.id WHERE {where} "
            f"{'AND c.started_at IS NOT NULL' if interval else ''} GROUP BY bucket, grp ORDER BY bucket, grp"
        )
        with self._lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [ConversationTotal(bucket=r[0], group=r[1], conversations=r[2]) for r in rows]

    def score_totals(
        self, filter: ConversationFilter | None = None, interval: Interval | None = None, tz: str | None = None
    ) -> list[ScoreTotal]:
        f = filter or ConversationFilter()
        if snapshot := self._snapshot(f):
            return snapshot.score_totals(f, interval, tz)
        where, params = self._where_sql(f)
        bucket = bucket_sql(interval, tz) if interval else "NULL"
        # One pass over the matching conversations; the analysis is joined by its primary key.
        sql = (
            f"SELECT {bucket} AS bucket, COUNT(*), COUNT(a.conversation_id), SUM(a.sentiment_label = 'negative'), "
            "SUM(a.sentiment_label = 'neutral'), SUM(a.sentiment_label = 'positive'), COUNT(c.nps), "
            "SUM(c.nps >= 9), SUM(c.nps <= 6), COUNT(c.csat), SUM(c.csat) "
            f"FROM conversations c LEFT JOIN analyses a ON a.conversation_id = c.id WHERE {where} "
            f"{'AND c.started_at IS NOT NULL' if interval else ''} GROUP BY bucket ORDER BY bucket"
        )
        with self._lock:  # the store's own connection: it has the time zone function bucket_sql calls
            rows = self.conn.execute(sql, params).fetchall()
        return [
            ScoreTotal(
                bucket=r[0],
                conversations=r[1],
                analysed=r[2],
                negative=r[3] or 0,
                neutral=r[4] or 0,
                positive=r[5] or 0,
                nps_responses=r[6],
                promoters=r[7] or 0,
                detractors=r[8] or 0,
                csat_responses=r[9],
                csat_sum=float(r[10] or 0.0),
            )
            for r in rows
        ]

    def agent_aggregates(
        self, by: AgentGrouping, filter: ConversationFilter | None = None, interval: Interval | None = None
    ) -> list[AgentAggregate]:
        f = filter or ConversationFilter()
        if snapshot := self._snapshot(f):
            return snapshot.agent_aggregates(by, f, interval)
        where, params = self._where_sql(f)
        column = GROUPS[by]
        bucket = BUCKETS[interval] if interval else "NULL"
        sql = (
            f"SELECT {column} AS who, {bucket} AS bucket, COUNT(*), COALESCE(SUM(a.sentiment_score), 0), "
            "COUNT(a.sentiment_score), COUNT(a.trajectory), SUM(a.trajectory = 'improved'), "
            "SUM(a.trajectory = 'worsened'), SUM(a.max_severity > 0) "
            f"FROM conversations c JOIN analyses a ON a.conversation_id = c.id WHERE {where} AND {column} IS NOT NULL "
            f"{'AND c.started_at IS NOT NULL' if interval else ''} GROUP BY who, bucket ORDER BY who, bucket"
        )
        with self._lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [
            AgentAggregate(
                key=r[0],
                bucket=r[1],
                conversations=r[2],
                sentiment_sum=float(r[3]),
                with_sentiment=r[4],
                with_trajectory=r[5],
                improved=r[6] or 0,
                worsened=r[7] or 0,
                flagged=r[8] or 0,
            )
            for r in rows
        ]

    def survey_table(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> SurveyTable:
        f = filter or ConversationFilter()
        if snapshot := self._snapshot(f):
            return snapshot.survey_table(f, theme_map)
        return SurveyTable.from_rows(self.iter_survey_themes(f, theme_map))

    def iter_survey_themes(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> Iterator[SurveyThemes]:
        where, params = self._where_sql(filter or ConversationFilter())
        sql = (
            "SELECT c.id, c.nps, c.csat, (SELECT group_concat(DISTINCT theme_id) FROM segments s "
            "WHERE s.conversation_id = c.id AND s.theme_id IS NOT NULL) FROM conversations c "
            f"JOIN analyses a ON a.conversation_id = c.id WHERE {where} AND (c.nps IS NOT NULL OR c.csat IS NOT NULL) "
            "ORDER BY c.rowid"
        )
        with self._lock:
            rows = self.conn.execute(sql, params).fetchall()
        for cid, nps, csat, themes in rows:
            yield SurveyThemes(
                conversation_id=cid,
                nps=nps,
                csat=csat,
                themes=mapped_themes(themes.split(",") if themes else [], theme_map),
            )


def _reported_theme(theme_map: Mapping[str, str] | None) -> tuple[str, list[str]]:
    """The SQL expression a segment's theme is reported as, and its parameters: the theme itself,
    or its mapped id (NULL when unmapped, so it is left out)."""
    if theme_map is None:
        return "theme_id", []
    if not theme_map:
        return "NULL", []
    cases = " ".join("WHEN ? THEN ?" for _ in theme_map)
    return f"CASE theme_id {cases} END", [v for pair in theme_map.items() for v in pair]

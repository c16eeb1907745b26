"""Analysis results in the embedded store: the ``analyses``, ``segments`` and ``conversation_flags``
tables of migration 3, mixed into ``SQLiteStore``.

A conversation's analysis is written whole: its old segments and flags are deleted and the new ones
inserted in the same transaction, so a reader never sees half of two analyses. The conversation
record of an analysis is stored as JSON without its segments (they live in ``segments``, where the
theme model updates their theme and reads their embeddings) and put back together on read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.errors import StoreError
from vocmine.schema import AnalysedSegment, Conversation, ConversationAnalysis
from vocmine.store.protocol import Partition
from vocmine.store.query import AnalysisStats, ConversationFilter, versions_key

_SEGMENT_COLUMNS = (
    "id, conversation_id, turn_index, start_char, end_char, text, sentiment_label, sentiment_score, "
    "stage, stage_confidence, theme_id"
)


if TYPE_CHECKING:
    from vocmine.store.sqlite.host import SQLiteHost as _Host
else:
    _Host = object


class SQLiteAnalysisMixin(_Host):
    """Needs ``conn``, ``_lock`` and ``_where_sql`` from the store it is mixed into."""

    def write_analyses(self, analyses: Sequence[ConversationAnalysis], vectors: Sequence[Any]) -> None:
        if len(vectors) != len(analyses):
            raise StoreError(f"{len(analyses)} analyses but {len(vectors)} vector matrices")
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for analysis, matrix in zip(analyses, vectors, strict=True):
                    self._write_analysis(conn, analysis, matrix)
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise StoreError(
                    f"cannot store analyses: {exc}", hint="analyse only conversations that are in this store"
                ) from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _write_analysis(self, conn: sqlite3.Connection, a: ConversationAnalysis, matrix: Any) -> None:
        if matrix is not None and len(matrix) != len(a.segments):
            raise StoreError(f"{a.conversation_id}: {len(a.segments)} segments but {len(matrix)} vectors")
        sentiment = a.sentiment
        doc = a.model_dump_json(exclude={"segments"})
        conn.execute(
            "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.conversation_id,
                a.content_hash,
                versions_key(a.model_versions),
                sentiment.label if sentiment else None,
                sentiment.score if sentiment else None,
                sentiment.most_negative if sentiment else None,
                sentiment.trajectory if sentiment else None,
                a.stage,
                a.stage_confidence,
                a.max_severity(),
                doc,
                a.analysed_at.isoformat(),
            ),
        )
        conn.execute("DELETE FROM segments WHERE conversation_id = ?", (a.conversation_id,))
        conn.executemany(
            "INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.id,
                    a.conversation_id,
                    position,
                    s.turn_index,
                    s.start,
                    s.end,
                    s.text,
                    s.sentiment,
                    s.sentiment_score,
                    s.stage,
                    s.stage_confidence,
                    s.theme_id,
                    None if matrix is None else np.asarray(matrix[position], dtype=np.float32).tobytes(),
                )
                for position, s in enumerate(a.segments)
            ],
        )
        conn.execute("DELETE FROM conversation_flags WHERE conversation_id = ?", (a.conversation_id,))
        conn.executemany(
            "INSERT INTO conversation_flags VALUES (?, ?, ?)",
            [(a.conversation_id, f.signal, f.severity) for f in a.flags],
        )

    def get_analyses(self, conversation_ids: Iterable[str]) -> dict[str, ConversationAnalysis]:
        ids = list(dict.fromkeys(conversation_ids))
        found: dict[str, ConversationAnalysis] = {}
        with self._reading() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                docs = dict(
                    conn.execute(
                        f"SELECT conversation_id, doc FROM analyses WHERE conversation_id IN ({marks})", chunk
                    ).fetchall()
                )
                segments: dict[str, list[AnalysedSegment]] = {}
                rows = conn.execute(
                    f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE conversation_id IN ({marks}) "
                    "ORDER BY conversation_id, position",
                    chunk,
                )
                for row in rows:
                    segments.setdefault(row[1], []).append(_segment(row))
                for cid, doc in docs.items():
                    record = json.loads(doc)
                    record["segments"] = segments.get(cid, [])
                    found[cid] = ConversationAnalysis.model_validate(record)
        return found

    def get_analysis(self, conversation_id: str) -> ConversationAnalysis | None:
        return self.get_analyses([conversation_id]).get(conversation_id)

    def iter_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        return self._iter_pending(versions_key, filter, after=0, upto=None)

    def _pending_sql(self, filter: ConversationFilter | None) -> tuple[str, list[Any]]:
        """FROM and WHERE of the conversations that need analysis (the versions key is the last parameter)."""
        where, params = self._where_sql(filter or ConversationFilter())
        sql = (
            "FROM conversations c LEFT JOIN analyses a ON a.conversation_id = c.id "
            f"WHERE {where} AND (a.conversation_id IS NULL OR a.content_hash != c.content_hash OR a.versions_key != ?)"
        )
        return sql, params

    def _iter_pending(
        self, versions_key: str, filter: ConversationFilter | None, *, after: int, upto: int | None
    ) -> Iterator[Conversation]:
        pending, params = self._pending_sql(filter)
        last = after
        while True:
            # Paged by rowid, so analyses written while iterating neither repeat nor skip anything.
            with self._lock:
                rows = self.conn.execute(
                    f"SELECT c.rowid, c.doc {pending} AND c.rowid > ? AND (? IS NULL OR c.rowid <= ?) "
                    "ORDER BY c.rowid LIMIT 200",
                    [*params, versions_key, last, upto, upto],
                ).fetchall()
            if not rows:
                return
            for rowid, doc in rows:
                last = rowid
                yield Conversation.model_validate_json(doc)

    def plan_partitions(
        self, versions_key: str, count: int, filter: ConversationFilter | None = None
    ) -> list[Partition]:
        # Rowid ranges cut at the pending rows' own rowids, so each part holds the same number of
        # pending conversations however the analysed ones are spread. One integer a row: 8 MB for 1M.
        pending, params = self._pending_sql(filter)
        with self._lock:
            rowids = [
                r for (r,) in self.conn.execute(f"SELECT c.rowid {pending} ORDER BY c.rowid", [*params, versions_key])
            ]
        parts = min(max(count, 1), len(rowids))
        uppers: list[int | None] = [rowids[(i + 1) * len(rowids) // parts - 1] for i in range(parts - 1)]
        # The last part has no end: a conversation re-ingested meanwhile (a new rowid) still has a part.
        uppers.append(None)
        lowers = [0, *(u for u in uppers[:-1] if u is not None)]
        return [Partition(i, parts, (lowers[i], uppers[i])) for i in range(parts)]

    def iter_partition(
        self, partition: Partition, versions_key: str, filter: ConversationFilter | None = None
    ) -> Iterator[Conversation]:
        after, upto = partition.bounds
        if not isinstance(after, int) or not (upto is None or isinstance(upto, int)):
            raise StoreError(f"partition {partition.number}: {partition.bounds!r} is not a rowid range of this store")
        return self._iter_pending(versions_key, filter, after=after, upto=upto)

    def release_partitions(self, partitions: Sequence[Partition]) -> None:
        """Nothing to free: a rowid range holds nothing on the store."""

    def count_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> int:
        pending, params = self._pending_sql(filter)
        with self._lock:
            return int(self.conn.execute(f"SELECT COUNT(*) {pending}", [*params, versions_key]).fetchone()[0])

    def iter_segment_vectors(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        where, params = self._where_sql(filter or ConversationFilter())
        last = 0
        while True:
            with self._lock:
                rows = self.conn.execute(
                    "SELECT s.rowid, s.id, s.vector FROM segments s JOIN conversations c ON c.id = s.conversation_id "
                    f"WHERE s.rowid > ? AND s.vector IS NOT NULL AND {where} ORDER BY s.rowid LIMIT ?",
                    [last, *params, batch_size],
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [r[1] for r in rows], np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])

    def get_segment_vectors(self, segment_ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        ids = list(segment_ids)
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT id, vector FROM segments WHERE vector IS NOT NULL AND id IN ({marks})", chunk
                )
                found.update({sid: np.frombuffer(blob, dtype=np.float32) for sid, blob in rows})
        return found

    def analysis_stats(self, filter: ConversationFilter | None = None) -> AnalysisStats:
        where, params = self._where_sql(filter or ConversationFilter())
        joined = f"FROM conversations c JOIN analyses a ON a.conversation_id = c.id WHERE {where}"
        with self._lock:
            conn = self.conn
            total = conn.execute(f"SELECT COUNT(*) FROM conversations c WHERE {where}", params).fetchone()[0]
            analysed, stale = conn.execute(
                f"SELECT SUM(a.content_hash = c.content_hash), SUM(a.content_hash != c.content_hash) {joined}", params
            ).fetchone()

            def counts(column: str) -> dict[str, int]:
                rows = conn.execute(
                    f"SELECT COALESCE({column}, 'none'), COUNT(*) {joined} GROUP BY 1 ORDER BY 2 DESC", params
                )
                return dict(rows.fetchall())

            segments = conn.execute(
                f"SELECT COUNT(*) FROM segments s JOIN conversations c ON c.id = s.conversation_id WHERE {where}",
                params,
            ).fetchone()[0]
            signals = conn.execute(
                "SELECT f.signal, COUNT(*) FROM conversation_flags f JOIN conversations c ON c.id = f.conversation_id "
                f"WHERE {where} GROUP BY 1 ORDER BY 2 DESC",
                params,
            ).fetchall()
            versions: dict[str, set[str]] = {}
            for (doc,) in conn.execute(
                "SELECT json_extract(doc, '$.model_versions') FROM analyses WHERE rowid IN "
                f"(SELECT MIN(a.rowid) {joined} GROUP BY a.versions_key)",
                params,
            ).fetchall():
                for model, version in json.loads(doc).items():
                    versions.setdefault(model, set()).add(version)
        return AnalysisStats(
            conversations=total,
            analysed=analysed or 0,
            stale=stale or 0,
            segments=segments,
            by_sentiment=counts("a.sentiment_label"),
            by_stage=counts("a.stage"),
            by_trajectory=counts("a.trajectory"),
            by_signal=dict(signals),
            model_versions={model: sorted(found) for model, found in sorted(versions.items())},
        )


def _segment(row: tuple[Any, ...]) -> AnalysedSegment:
    sid, cid, turn, start, end, text, label, score, stage, confidence, theme = row
    return AnalysedSegment(
        id=sid,
        conversation_id=cid,
        turn_index=turn,
        start=start,
        end=end,
        text=text,
        sentiment=label,
        sentiment_score=score,
        stage=stage,
        stage_confidence=confidence,
        theme_id=theme,
    )

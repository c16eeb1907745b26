"""Semantic search and facets in the embedded store, mixed into ``SQLiteStore``.

Semantic search is exact (brute-force cosine over the stored segment vectors of the conversations
that pass the filter), which is right for the embedded store's scale: the vectors are kept in
memory once and reloaded only when segments were written since. Above ``MAX_SEGMENTS`` it refuses
and points at the Elasticsearch backend (kNN), where vector search belongs at that size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.errors import ConfigError
from vocmine.store.fusion import FUSION_DEPTH, FusedHit, fused_search
from vocmine.store.query import ConversationFilter, SearchQuery
from vocmine.store.sqlite.fts import all_matches, matches_sql, to_fts_query

MAX_SEGMENTS = 2_000_000


if TYPE_CHECKING:
    from vocmine.store.sqlite.host import SQLiteHost as _Host
else:
    _Host = object


class SQLiteSemanticMixin(_Host):
    _vector_cache: tuple[tuple[int, int], list[str], np.ndarray, np.ndarray] | None = None

    def _segment_matrix(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(conversation id per row, segment rowid per row, unit vectors), cached until segments change."""
        with self._lock:
            stamp = tuple(self.conn.execute("SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM segments").fetchone())
            if self._vector_cache is not None and self._vector_cache[0] == stamp:
                return self._vector_cache[1], self._vector_cache[2], self._vector_cache[3]
            if stamp[0] > MAX_SEGMENTS:
                raise ConfigError(
                    f"semantic search over {stamp[0]:,} segments is beyond the embedded store",
                    hint="use the Elasticsearch backend (kNN) for stores this size, or full-text search",
                )
            rows = self.conn.execute(
                "SELECT rowid, conversation_id, vector FROM segments WHERE vector IS NOT NULL ORDER BY rowid"
            ).fetchall()
        owners = [r[1] for r in rows]
        rowids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = (
            np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows]) if rows else np.zeros((0, 1), np.float32)
        )
        self._vector_cache = (stamp, owners, rowids, matrix)
        return owners, rowids, matrix

    def hybrid_search(
        self, text: str, vector: Any, filter: ConversationFilter, depth: int = FUSION_DEPTH
    ) -> list[FusedHit]:
        return fused_search(self, text, vector, filter, depth)  # type: ignore[arg-type]  # a mixin of the store

    def semantic_search(
        self, vector: np.ndarray, filter: ConversationFilter | None = None, limit: int = 20, offset: int = 0
    ) -> list[tuple[str, float, str]]:
        """(conversation id, cosine of its best segment, that segment's text), best first."""
        owners, rowids, matrix = self._segment_matrix()
        if not owners:
            return []
        where, params = self._where_sql(filter or ConversationFilter())
        with self._lock:
            allowed = {r[0] for r in self.conn.execute(f"SELECT c.id FROM conversations c WHERE {where}", params)}
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        scores = matrix @ (query / max(float(np.linalg.norm(query)), 1e-12))
        best: dict[str, tuple[float, int]] = {}
        for row in np.argsort(-scores):
            owner = owners[row]
            if owner in allowed and owner not in best:
                best[owner] = (float(scores[row]), int(rowids[row]))
                if len(best) >= offset + limit:
                    break
        ranked = list(best.items())[offset : offset + limit]
        with self._lock:
            texts = {
                r[0]: r[1]
                for r in self.conn.execute(
                    f"SELECT rowid, text FROM segments WHERE rowid IN ({','.join('?' * len(ranked))})",
                    [rowid for _, (_, rowid) in ranked],
                )
            } if ranked else {}  # fmt: skip
        return [(cid, round(score, 4), texts.get(rowid, "")) for cid, (score, rowid) in ranked]

    def facet_counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts by channel, sentiment, journey stage and signal over everything the query matches."""
        if snapshot := self._snapshot(query.filter):
            keep = snapshot.mask(query.filter, analysed_only=False)
            if query.text and query.text.strip():
                with self._reading() as conn:
                    rowids = all_matches(conn, to_fts_query(query.text))
                matched = np.zeros(len(keep), dtype=bool)
                matched[rowids[rowids < len(keep)]] = True  # newer than the columns: written since
                keep &= matched
            return snapshot.facet_counts(keep)
        where, params = self._where_sql(query.filter)
        if query.text and query.text.strip():
            with self._lock:
                found_sql, found_params = matches_sql(self.conn, to_fts_query(query.text))
            matched_sql = f"SELECT c.id FROM conversations c WHERE c.rowid IN ({found_sql}) AND {where}"
            params = [*found_params, *params]
        else:
            matched_sql = f"SELECT c.id FROM conversations c WHERE {where}"
        counts = "SELECT {column}, COUNT(*) FROM {table} WHERE {key} IN ({matched}) GROUP BY 1"
        facets = {
            "channel": counts.format(column="channel", table="conversations", key="id", matched=matched_sql),
            "sentiment": counts.format(
                column="sentiment_label", table="analyses", key="conversation_id", matched=matched_sql
            ),
            "stage": counts.format(column="stage", table="analyses", key="conversation_id", matched=matched_sql),
            "signal": counts.format(
                column="signal", table="conversation_flags", key="conversation_id", matched=matched_sql
            ),
        }
        with self._lock:
            return {
                name: {str(k): v for k, v in self.conn.execute(sql, params).fetchall() if k is not None}
                for name, sql in facets.items()
            }

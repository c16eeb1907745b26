"""Loads a ``FactSnapshot`` (``vocmine/store/columns.py``) from an embedded store file and keeps it current.

Triggers (migration 8) append the id of every conversation whose aggregated facts may have changed
– the conversation row, its analysis, a segment's theme – to ``fact_changes`` in the same
transaction as the change. Before each query the holder compares the log's last sequence number
with its snapshot's: if they differ it reads only the changed conversations and builds a new
snapshot from the old one (or everything again when the change is large, or when the log was
pruned past the snapshot's position). So a query always reflects every committed write, from this
process or any other, without rescanning the store.

The holder reads through its own read-only connection, in one read transaction per refresh (the
data and the sequence number it records agree), so a multi-second first build does not hold the
store's connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from vocmine.store.columns import CODED, ConversationColumns, FactSnapshot, Flags, Pairs, Vocabulary
from vocmine.store.sqlite.tx import read_only

# Migration 8's statements (triggers hold semicolons, so these are listed, not split from a script).
CHANGE_LOG: list[str] = [
    "CREATE TABLE fact_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL)",
    "CREATE TRIGGER fact_conversation_insert AFTER INSERT ON conversations "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (NEW.id); END",
    "CREATE TRIGGER fact_conversation_update AFTER UPDATE ON conversations "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (NEW.id); END",
    "CREATE TRIGGER fact_analysis_insert AFTER INSERT ON analyses "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (NEW.conversation_id); END",
    "CREATE TRIGGER fact_analysis_update AFTER UPDATE ON analyses "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (NEW.conversation_id); END",
    "CREATE TRIGGER fact_analysis_delete AFTER DELETE ON analyses "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (OLD.conversation_id); END",
    "CREATE TRIGGER fact_segment_theme AFTER UPDATE OF theme_id ON segments WHEN OLD.theme_id IS NOT NEW.theme_id "
    "BEGIN INSERT INTO fact_changes (conversation_id) VALUES (NEW.conversation_id); END",
    # Keep the newest ~200k entries: a reader further behind than that rebuilds instead.
    "CREATE TRIGGER fact_changes_prune AFTER INSERT ON fact_changes WHEN NEW.seq % 10000 = 0 "
    "BEGIN DELETE FROM fact_changes WHERE seq <= NEW.seq - 200000; END",
    # Lets the snapshot (and the SQL aggregations) read segments' facts without touching their rows,
    # which carry the embedding (1.5 kB each).
    "CREATE INDEX segments_facts ON segments (conversation_id, theme_id, sentiment_label, sentiment_score)",
]

REBUILD_SHARE = 0.25  # when more than this share of conversations changed, read everything again
CHUNK = 100_000

_CONVERSATIONS = (
    "SELECT c.rowid, c.started_at, c.nps, c.csat, c.channel, c.source, c.agent_id, c.team_id, c.brand, c.product, "
    "c.language, a.sentiment_label, a.trajectory, a.stage, a.conversation_id IS NOT NULL, a.sentiment_score, "
    "a.max_severity FROM conversations c LEFT JOIN analyses a ON a.conversation_id = c.id"
)
_PAIRS = (
    "SELECT c.rowid, s.theme_id, COUNT(*), SUM(s.sentiment_score), SUM(s.sentiment_label = 'negative') "
    "FROM segments s JOIN conversations c ON c.id = s.conversation_id WHERE s.theme_id IS NOT NULL {changed} "
    "GROUP BY s.conversation_id, s.theme_id"
)
_FLAGS = "SELECT c.rowid, f.signal FROM conversation_flags f JOIN conversations c ON c.id = f.conversation_id"
_CHANGED = "IN (SELECT conversation_id FROM fact_changes WHERE seq > ?)"


class SQLiteFacts:
    """Holds the current snapshot of one store file; safe to share between threads."""

    def __init__(self, path: str) -> None:
        self._conn = read_only(path)
        self._lock = threading.Lock()
        self._snapshot: FactSnapshot | None = None
        self.vocab = {name: Vocabulary() for name in (*CODED, "theme", "signal")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def snapshot(self) -> FactSnapshot:
        """The current snapshot, refreshed first if anything was written since."""
        with self._lock:
            if self._snapshot is None or self._latest_seq() != self._snapshot.seq:
                self._snapshot = self._refresh(self._snapshot)
            return self._snapshot

    # ------------------------------------------------------------ refresh

    def _latest_seq(self) -> int:
        row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'fact_changes'").fetchone()
        return int(row[0]) if row else 0

    def _refresh(self, old: FactSnapshot | None) -> FactSnapshot:
        conn = self._conn
        conn.execute("BEGIN")  # one read transaction: the rows read and the seq recorded agree
        try:
            seq = self._latest_seq()
            if old is None or self._must_rebuild(old):
                return self._load(seq, None)
            return self._load(seq, old)
        finally:
            conn.execute("COMMIT")

    def _must_rebuild(self, old: FactSnapshot) -> bool:
        oldest = self._conn.execute("SELECT MIN(seq) FROM fact_changes").fetchone()[0]
        if oldest is not None and oldest > old.seq + 1:
            return True  # the log was pruned past this snapshot: changes are missing
        changed = self._conn.execute(
            "SELECT COUNT(DISTINCT conversation_id) FROM fact_changes WHERE seq > ?", (old.seq,)
        ).fetchone()[0]
        return bool(changed > REBUILD_SHARE * max(1, int(old.columns.analysed.sum())))

    def _load(self, seq: int, old: FactSnapshot | None) -> FactSnapshot:
        """Everything (``old`` None) or the conversations changed since ``old`` merged into it."""
        where, params = ("", []) if old is None else (f"WHERE c.id {_CHANGED}", [old.seq])
        columns, positions = self._columns(f"{_CONVERSATIONS} {where}", params)
        pair_rows = self._rows(
            _PAIRS.format(changed="" if old is None else f"AND s.conversation_id {_CHANGED}"), params
        )
        pairs = self._pairs(pair_rows)
        flag_where = "" if old is None else f" WHERE f.conversation_id {_CHANGED}"
        flags = self._flags(self._rows(_FLAGS + flag_where, params))
        if old is None:
            return FactSnapshot(seq, _scatter(columns, positions), pairs, flags, self.vocab)
        return FactSnapshot(
            seq,
            _merge_columns(old.columns, columns, positions),
            _replace_rows(old.pairs, pairs, positions),
            _replace_rows(old.flags, flags, positions),
            self.vocab,
            old.answers.successor(),
        )

    def _rows(self, sql: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
        cursor = self._conn.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield rows

    def _columns(self, sql: str, params: list[Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {}
        for rows in self._rows(sql, params):
            values = list(zip(*rows, strict=True))
            n = len(rows)
            chunk = {
                "position": np.array(values[0], dtype=np.int64),
                "started": _floats(values[1]),
                "nps": _floats(values[2]),
                "csat": _floats(values[3]),
                "present": np.ones(n, dtype=bool),
                "analysed": np.array(values[14], dtype=bool),
                "score": _floats(values[15]),
                "severity": np.array([v or 0 for v in values[16]], dtype=np.int16),
            }
            for name, column in zip(CODED, values[4:14], strict=True):
                chunk[name] = np.fromiter(map(self.vocab[name].code, column), dtype=np.int32, count=n)
            for name, array in chunk.items():
                parts.setdefault(name, []).append(array)
        if not parts:  # nothing to read: every column empty, with the dtype it always has
            columns = {name: fill(0) for name, fill in _FILL.items()}
            return {**columns, "position": np.zeros(0, dtype=np.int64)}, np.zeros(0, dtype=np.int64)
        merged = {name: np.concatenate(arrays) for name, arrays in parts.items()}
        return merged, merged["position"]

    def _pairs(self, chunks: Iterator[list[tuple[Any, ...]]]) -> Pairs:
        parts: list[tuple[np.ndarray, ...]] = []
        themes = self.vocab["theme"]
        for rows in chunks:
            position, theme, segments, score, negative = zip(*rows, strict=True)
            parts.append(
                (
                    np.array(position, dtype=np.int64),
                    np.fromiter(map(themes.code, theme), dtype=np.int32, count=len(rows)),
                    np.array(segments, dtype=np.float64),
                    np.array(score, dtype=np.float64),
                    np.array(negative, dtype=np.float64),
                )
            )
        return Pairs(*_stack(parts, (np.int64, np.int32, np.float64, np.float64, np.float64)))

    def _flags(self, chunks: Iterator[list[tuple[Any, ...]]]) -> Flags:
        parts: list[tuple[np.ndarray, ...]] = []
        signals = self.vocab["signal"]
        for rows in chunks:
            position, signal = zip(*rows, strict=True)
            parts.append(
                (
                    np.array(position, dtype=np.int64),
                    np.fromiter(map(signals.code, signal), dtype=np.int32, count=len(rows)),
                )
            )
        return Flags(*_stack(parts, (np.int64, np.int32)))


def _floats(values: tuple[Any, ...]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _stack(parts: list[tuple[np.ndarray, ...]], dtypes: tuple[Any, ...]) -> list[np.ndarray]:
    if not parts:
        return [np.zeros(0, dtype=d) for d in dtypes]
    return [np.concatenate([p[i] for p in parts]) for i in range(len(dtypes))]


_FILL: dict[str, Callable[[int], np.ndarray]] = {
    "started": lambda n: np.full(n, np.nan),
    "nps": lambda n: np.full(n, np.nan),
    "csat": lambda n: np.full(n, np.nan),
    "score": lambda n: np.full(n, np.nan),
    "present": lambda n: np.zeros(n, dtype=bool),
    "analysed": lambda n: np.zeros(n, dtype=bool),
    "severity": lambda n: np.zeros(n, dtype=np.int16),
    **{name: (lambda n: np.zeros(n, dtype=np.int32)) for name in CODED},
}


def _as_columns(arrays: dict[str, np.ndarray]) -> ConversationColumns:
    return ConversationColumns(
        present=arrays["present"],
        analysed=arrays["analysed"],
        started=arrays["started"],
        codes={name: arrays[name] for name in CODED},
        score=arrays["score"],
        severity=arrays["severity"],
        nps=arrays["nps"],
        csat=arrays["csat"],
    )


def _scatter(values: dict[str, np.ndarray], positions: np.ndarray) -> ConversationColumns:
    """Columns indexed by position (the SQLite rowid) from rows read in any order."""
    size = int(positions.max()) + 1 if len(positions) else 0
    arrays = {}
    for name, fill in _FILL.items():
        array = fill(size)
        array[positions] = values[name]
        arrays[name] = array
    return _as_columns(arrays)


def _merge_columns(
    old: ConversationColumns, values: dict[str, np.ndarray], positions: np.ndarray
) -> ConversationColumns:
    size = max(len(old), int(positions.max()) + 1 if len(positions) else 0)
    current = {
        "present": old.present,
        "analysed": old.analysed,
        "started": old.started,
        "score": old.score,
        "severity": old.severity,
        "nps": old.nps,
        "csat": old.csat,
        **old.codes,
    }
    arrays = {}
    for name, fill in _FILL.items():
        array = fill(size)
        array[: len(old)] = current[name]
        array[positions] = values[name]
        arrays[name] = array
    return _as_columns(arrays)


def _replace_rows(old: Any, new: Any, changed: np.ndarray) -> Any:
    """Rows (pairs or flags) of the changed conversations replaced by their newly read rows.

    Runs on every refresh while an ingest writes, so it avoids copying every row where it can:
    copying all pair columns took most of a refresh at 1M (2.5M pairs). New conversations drop no
    old rows, so the old arrays are kept whole, and reused as they are when nothing is added either
    (unanalysed conversations have no pairs; snapshots are never modified, so sharing is safe)."""
    top = max(int(old.position.max(initial=-1)), int(changed.max(initial=-1))) + 1
    dropped = np.zeros(top, dtype=bool)
    dropped[changed] = True
    keep = ~dropped[old.position]
    everything = bool(keep.all())
    if everything and not len(new.position):
        return old
    fields = old.__dataclass_fields__
    kept = {name: getattr(old, name) if everything else getattr(old, name)[keep] for name in fields}
    return type(old)(**{name: np.concatenate([kept[name], getattr(new, name)]) for name in fields})

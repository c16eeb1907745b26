"""Full-text search in the embedded store: bm25 relevance within windows of the newest matches.

Why windows: FTS5 can only return the best bm25 matches by scoring every match first. At a million
conversations a common word ("refund") matches a third of them, and scoring those alone takes
~0.5 s a query. Reading matches newest first (by rowid, which is ingestion order) is cheap and stops
early. So the store takes the newest ``RANK_WINDOW`` matches that pass the filter, ranks them by
bm25, serves them best first, and then does the same for the next older window. The cursor walks
windows in order, so paging reaches every match exactly once.

A query whose matches fit in one window (every query on a small store) is ranked exactly as a
whole, and its total is exact. Past the first window the total is a lower bound
(``total_relation == "gte"``), as Elasticsearch reports it past ``track_total_hits``.

Which matches pass the filter comes from a callable: the in-memory columns' mask when the API
built them (``columns.py``), else one SQL lookup per chunk of candidates.

The index is sharded by rowid range (``fts.py``). A window may span shards: each shard's part
is scored by bm25 with that shard's term statistics, and the parts are merged by score.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vocmine.errors import ConfigError
from vocmine.store.columns import FactSnapshot
from vocmine.store.cursor import decode_cursor, encode_cursor
from vocmine.store.query import ConversationFilter
from vocmine.store.sqlite.fts import TOKENIZE, by_shard, lowest_rowid, parse_ints, prefix_form, shards, table, texts

RANK_WINDOW = 1000  # matches ranked together; a filtered query scans ~RANK_WINDOW / selectivity
SCAN_CHUNK = 4096
NEWEST = 2**63 - 1

_local = threading.local()

Passes = Callable[[np.ndarray], np.ndarray]  # rowids → bool, True where the filter holds


@dataclass(frozen=True)
class Ranked:
    rowid: int
    rank: float  # FTS5 bm25: lower is better
    top: int  # the newest rowid of this hit's window: the window is recomputed from it
    window: int  # 0 for the newest window


@dataclass(frozen=True)
class RankedPage:
    hits: list[Ranked]
    total: int
    exact: bool
    next_cursor: str | None


def rank_page(conn: sqlite3.Connection, match: str, passes: Passes, limit: int, cursor: str | None) -> RankedPage:
    """One page of matches, best first within each window, windows newest first."""
    top, window, after = NEWEST, 0, None
    if cursor:
        numbers = _numbers(cursor, 4)
        top, window, after = int(numbers[0]), int(numbers[1]), (numbers[2], int(numbers[3]))
    hits: list[Ranked] = []
    counted, exact = window * RANK_WINDOW, False
    newest_first = shards(conn)
    while len(hits) <= limit:
        scanned_top, rowids, last = _window_rowids(conn, match, passes, top, newest_first)
        counted += len(rowids)
        # Only as many of this window as the page still holds: the rest is not on this page.
        best = _best(conn, match, rowids, limit + 1 - len(hits), after)
        after = None  # the cursor's hit lies in the first window read
        hits.extend(Ranked(rowid=rowid, rank=rank, top=scanned_top, window=window) for rank, rowid in best)
        if last:
            exact = True
            break
        top, window = int(rowids.min()) - 1, window + 1
    next_cursor = None
    if len(hits) > limit:
        last_hit = hits[limit - 1]
        next_cursor = encode_cursor([last_hit.top, last_hit.window, last_hit.rank, last_hit.rowid])
    return RankedPage(hits=hits[:limit], total=counted, exact=exact, next_cursor=next_cursor)


def _window_rowids(
    conn: sqlite3.Connection, match: str, passes: Passes, top: int, newest_first: list[int]
) -> tuple[int, np.ndarray, bool]:
    """(the newest rowid scanned, the newest ``RANK_WINDOW`` passing matches at or below ``top``,
    whether no older match is left), reading shard after shard."""
    kept: list[np.ndarray] = []
    found, scanned_top = 0, None
    older = [shard for shard in newest_first if lowest_rowid(shard) <= top]
    for position, shard in enumerate(older):
        below = top if position == 0 else lowest_rowid(shard + 1) - 1
        while True:
            rowids = _rowids_below(conn, shard, match, below)
            if not len(rowids):
                break
            if scanned_top is None:
                scanned_top = int(rowids[0])
            passing = rowids[passes(rowids)]
            kept.append(passing[: RANK_WINDOW - found])
            found += len(kept[-1])
            exhausted = len(rowids) < SCAN_CHUNK  # this shard has no older match
            if found == RANK_WINDOW:
                # Older matches may pass too: the next window looks (an empty one ends the walk).
                last = len(kept[-1]) == len(passing) and exhausted and position == len(older) - 1
                return scanned_top, np.concatenate(kept), last
            if exhausted:
                break
            below = int(rowids[-1]) - 1
    rowids = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return top if scanned_top is None else scanned_top, rowids, True


def _rowids_below(conn: sqlite3.Connection, shard: int, match: str, below: int) -> np.ndarray:
    """The next ``SCAN_CHUNK`` matching rowids of one shard at or below ``below``, newest first,
    parsed from one concatenated string (~2x faster than a row object per match)."""
    name = table(shard)
    joined = conn.execute(
        f"SELECT group_concat(rowid) FROM (SELECT rowid FROM {name} WHERE {name} MATCH ? "
        "AND rowid <= ? ORDER BY rowid DESC LIMIT ?)",
        (match, below, SCAN_CHUNK),
    ).fetchone()[0]
    return parse_ints(joined)


def _best(
    conn: sqlite3.Connection, match: str, rowids: np.ndarray, count: int, after: tuple[float, int] | None
) -> list[tuple[float, int]]:
    """The ``count`` best (bm25, rowid) among ``rowids``, best first, ties newest first; only those
    after the cursor's hit ``after`` when one is given. Each shard scores its part.

    FTS5 scores a rowid range in one pass (a lookup per rowid costs ~3 ms, as each recomputes the
    terms' document frequencies), so this reads the window's range. The unary + keeps the IN list
    out of FTS5's index (that would be one lookup per rowid): SQLite tests it per row instead, before
    bm25 is computed, so rows that failed the filter are never scored. (The + on ``rank`` keeps the
    cursor's comparison from reaching FTS5, which reads ``rank = ?`` as choosing a ranking function.)

    SQLite sorts and keeps the page's few rows, rather than returning the whole window: Python's
    sqlite3 hands the GIL back and forth on every row it steps, and with eight searching threads
    those ~1,000 hand-overs a window cost more than the scoring did."""
    best: list[tuple[float, int]] = []
    for shard, group in by_shard(rowids):
        name = table(shard)
        sql = (
            f"SELECT rank, rowid FROM {name} WHERE {name} MATCH ? AND rowid BETWEEN ? AND ? "
            "AND +rowid IN (SELECT value FROM json_each(?))"
        )
        params: list[object] = [match, int(group.min()), int(group.max()), json.dumps(group.tolist())]
        if after is not None:
            sql += " AND (+rank > ? OR (+rank = ? AND rowid < ?))"
            params += [after[0], after[0], after[1]]
        best += conn.execute(f"{sql} ORDER BY rank, rowid DESC LIMIT ?", [*params, count]).fetchall()
    return sorted(best, key=lambda hit: (hit[0], -hit[1]))[:count]


def highlights(
    conn: sqlite3.Connection, match: str, rowids: list[int], prefixes: Sequence[str] = ()
) -> dict[int, list[str]]:
    """Matched passages per rowid, terms inside <mark></mark>: the customer's words, then the subject.
    Words beginning with one of ``prefixes`` are marked too (FTS5 marks only the columns a term
    matched, and prefixes match the ``words`` column).

    FTS5's ``snippet`` runs inside a MATCH query, and one restricted to a single rowid costs ~0.1 ms
    (a whole page: 2–3 ms). So the page's texts are copied into a small in-memory FTS5 table with the
    same tokenizer, where the same query gives the same snippets at a tenth of the cost."""
    if not rowids:
        return {}
    scratch = _scratch()
    scratch.execute("BEGIN")
    try:
        scratch.executemany(
            "INSERT INTO page (rowid, customer_text, subject, words) VALUES (?, ?, ?, ?)",
            [(rowid, text, subject, prefix_form(f"{text} {subject}")) for rowid, text, subject in texts(conn, rowids)],
        )
        found = scratch.execute(
            "SELECT rowid, snippet(page, 0, '<mark>', '</mark>', ' … ', 24), "
            "snippet(page, 1, '<mark>', '</mark>', ' … ', 24) FROM page WHERE page MATCH ?",
            (match,),
        ).fetchall()
    finally:
        scratch.execute("ROLLBACK")
    out: dict[int, list[str]] = {rowid: [] for rowid in rowids}
    starts = re.compile(r"(?<![\w>])((?:" + "|".join(re.escape(p) for p in prefixes) + r")\w*)", re.IGNORECASE)
    for rowid, text_snip, subject_snip in found:
        snips = [starts.sub(r"<mark>\1</mark>", s) if prefixes and s else s for s in (text_snip, subject_snip)]
        out[rowid] = [s for s in snips if s and "<mark>" in s]
    return out


def _scratch() -> sqlite3.Connection:
    """This thread's in-memory table for ``highlights``."""
    conn = getattr(_local, "scratch", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE VIRTUAL TABLE page USING fts5 (customer_text, subject, words, tokenize = '{TOKENIZE}')")
        _local.scratch = conn
    return conn


def snapshot_passes(snapshot: FactSnapshot, f: ConversationFilter) -> Passes:
    """The filter tested on the in-memory columns; rowids newer than the columns do not pass
    (written after this query started)."""
    # Theme and signal filters read every pair or flag row whatever the candidates: mask once.
    whole = snapshot.mask(f, analysed_only=False) if f.themes or f.signals else None

    def passes(rowids: np.ndarray) -> np.ndarray:
        inside = rowids < len(snapshot.columns)
        out = np.zeros(len(rowids), dtype=bool)
        at = rowids[inside]
        out[inside] = whole[at] if whole is not None else snapshot.mask(f, analysed_only=False, at=at)
        return out

    return passes


def sql_passes(conn: sqlite3.Connection, where: str, params: list[object]) -> Passes:
    """The filter in SQL, one statement per chunk of candidates (stores without the columns)."""

    def passes(rowids: np.ndarray) -> np.ndarray:
        found = conn.execute(
            f"SELECT c.rowid FROM conversations c WHERE c.rowid IN (SELECT value FROM json_each(?)) AND {where}",
            [json.dumps(rowids.tolist()), *params],
        ).fetchall()
        return np.isin(rowids, np.array([r[0] for r in found], dtype=np.int64))

    return passes


def every_row(rowids: np.ndarray) -> np.ndarray:
    return np.ones(len(rowids), dtype=bool)


# ------------------------------------------------------------ browsing (no search text)


@dataclass(frozen=True)
class NewestPage:
    rowids: list[int]
    total: int
    next_cursor: str | None


def newest_page(snapshot: FactSnapshot, f: ConversationFilter, limit: int, cursor: str | None) -> NewestPage:
    """The newest conversations matching the filter, from the in-memory columns: by start time
    (unknown counts as 0, as in SQL), ties newest-stored first; the SQL path orders the same way."""
    positions = np.flatnonzero(snapshot.mask(f, analysed_only=False))
    total = len(positions)
    started = np.nan_to_num(snapshot.columns.started[positions], nan=0.0)
    if cursor:
        after_started, after_rowid = browse_cursor(cursor)
        later = (started < after_started) | ((started == after_started) & (positions < after_rowid))
        positions, started = positions[later], started[later]
    wanted = min(limit + 1, len(positions))
    if len(positions) > wanted:  # the newest ``wanted`` start times, ties at the boundary included
        boundary = np.partition(started, len(started) - wanted)[len(started) - wanted]
        near = started >= boundary
        positions, started = positions[near], started[near]
    order = np.lexsort((-positions, -started))[:wanted]
    rowids = positions[order].tolist()
    next_cursor = None
    if len(rowids) > limit:
        last = order[limit - 1]
        next_cursor = encode_cursor([float(started[last]), int(positions[last])])
    return NewestPage(rowids=rowids[:limit], total=total, next_cursor=next_cursor)


def browse_cursor(cursor: str) -> tuple[float, int]:
    started, rowid = _numbers(cursor, 2)
    return started, int(rowid)


def _numbers(cursor: str, length: int) -> list[float]:
    """A cursor of this store's searches: ``length`` numbers, or a clear error."""
    values = decode_cursor(cursor, length)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ConfigError("cursor does not belong to this query", hint="start again without a cursor")
    return [float(v) for v in values]

"""The embedded store's full-text index, in shards of ``SHARD_ROWS`` consecutive rowids.

Why shards: FTS5's bm25 counts, on every query, how many rows hold each query term, by walking
that term's whole list of rows. At a million conversations a common word ("refund", a third of
them) costs ~8 ms a query in that count alone, whatever the query then reads. Search ranks the
newest matches first (``search.py``), which mostly sit in the newest shard, so it only pays
for that shard's count. This is how Elasticsearch scores too: each shard ranks with its own term
statistics (``query_then_fetch``). A store under ``SHARD_ROWS`` conversations has one shard and
ranks exactly as one table would.

Shard ``k`` is the FTS5 table ``conversation_fts_k`` holding rowids ``k * SHARD_ROWS`` to
``(k + 1) * SHARD_ROWS - 1`` (rowid = the conversation's rowid); the first write into a range
creates its table.

Prefixes (``activat*``) are matched on the words as written, not on their stems: the porter
tokenizer stems a prefix as if it were a word, so "activat*" found nothing ("activate" is indexed as
"activ") while "activation*" found "active". The third column, ``words``, holds the same text with
every letter and digit written in its full-width form (``prefix_form``): porter only stems ASCII
words, so these are indexed as written, and a prefix query (``words : "ａｃｔｉｖａｔ"*``) finds
exactly the words that begin with what the user typed.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterator

import numpy as np

from vocmine.store.search_syntax import AllOf, AnyOf, Node, Not, Term, parse_search, positive_terms

TOKENIZE = "porter unicode61 remove_diacritics 2"  # as migration 1 created the unsharded table
SHARD_ROWS = 65_536
PREFIX = "conversation_fts_"


def table(shard: int) -> str:
    return f"{PREFIX}{int(shard)}"


def shard_of(rowid: int) -> int:
    return int(rowid) // SHARD_ROWS


def lowest_rowid(shard: int) -> int:
    return shard * SHARD_ROWS


def shards(conn: sqlite3.Connection) -> list[int]:
    """The shards that exist, newest first. (FTS5's own shadow tables, ``conversation_fts_k_data``
    and so on, are plain tables, not virtual ones.)"""
    joined = conn.execute(
        "SELECT group_concat(substr(name, ?), ' ') FROM sqlite_master "
        "WHERE type = 'table' AND name GLOB ? AND sql LIKE 'CREATE VIRTUAL TABLE%'",
        (len(PREFIX) + 1, f"{PREFIX}[0-9]*"),
    ).fetchone()[0]
    found = (joined or "").split()  # one row, not a row per shard (parse_ints says why)
    return sorted((int(n) for n in found if n.isdigit()), reverse=True)


def create(conn: sqlite3.Connection, shard: int) -> None:
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table(shard)} USING fts5 "
        f"(customer_text, subject, words, tokenize = '{TOKENIZE}')"
    )


class PendingIndex:
    """The conversations a write transaction (re)indexes, written in one go just before it ends.

    Why not row by row: every statement that opens a statement savepoint (the conversations upsert
    does, for its conflict clause and triggers) makes FTS5 flush what it has pending into a new
    segment on disk. Indexing each conversation right after its row was written made a segment per
    conversation, and the writes and merges those cost were a fifth of storing a conversation; indexed
    together, the batch is one segment. Inside the caller's transaction, so a rollback leaves nothing.
    """

    def __init__(self) -> None:
        # rowid -> (customer text, subject, whether its row is new in this transaction): a
        # conversation written twice in one batch is indexed once, with its last text.
        self._rows: dict[int, tuple[str, str, bool]] = {}

    def add(self, rowid: int, customer_text: str, subject: str, *, new_row: bool) -> None:
        """``new_row``: the row was just inserted, never updated, so no entry can be indexed under its
        rowid yet (conversations are never deleted, so a rowid is never used twice)."""
        earlier = self._rows.get(rowid)
        self._rows[rowid] = (customer_text, subject, new_row if earlier is None else earlier[2])

    def write(self, conn: sqlite3.Connection) -> None:
        by_table: dict[str, list[tuple[int, str, str, str]]] = {}
        for rowid, (customer_text, subject, new_row) in self._rows.items():
            shard = shard_of(rowid)
            name = table(shard)
            if name not in by_table:
                create(conn, shard)
                by_table[name] = []
            if not new_row:
                conn.execute(f"DELETE FROM {name} WHERE rowid = ?", (rowid,))
            by_table[name].append((rowid, customer_text, subject, prefix_form(f"{customer_text} {subject}")))
        for name, rows in by_table.items():
            conn.executemany(f"INSERT INTO {name} (rowid, customer_text, subject, words) VALUES (?, ?, ?, ?)", rows)
        self._rows.clear()


def by_shard(rowids: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """The rowids grouped by shard, newest shard first."""
    keys = rowids // SHARD_ROWS
    for shard in sorted(set(keys.tolist()), reverse=True):
        yield int(shard), rowids[keys == shard]


def all_matches(conn: sqlite3.Connection, match: str) -> np.ndarray:
    """Every matching rowid (for exact facet counts), one concatenated string per shard: that
    parses ~1.5x faster than a row per match (70 ms for 341k matches)."""
    parts = []
    for shard in shards(conn):
        name = table(shard)
        joined = conn.execute(f"SELECT group_concat(rowid) FROM {name} WHERE {name} MATCH ?", (match,)).fetchone()[0]
        parts.append(parse_ints(joined))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def matches_sql(conn: sqlite3.Connection, match: str) -> tuple[str, list[str]]:
    """A subquery of every matching rowid across the shards, and its parameters: for SQL that
    filters by the match without the rowids passing through Python."""
    names = [table(shard) for shard in shards(conn)]
    parts = [f"SELECT rowid FROM {name} WHERE {name} MATCH ?" for name in names]
    return " UNION ALL ".join(parts) or "SELECT NULL WHERE 0", [match] * len(parts)


def texts(conn: sqlite3.Connection, rowids: list[int]) -> list[tuple[int, str, str]]:
    """(rowid, customer text, subject) as indexed."""
    found: list[tuple[int, str, str]] = []
    for shard, group in by_shard(np.array(rowids, dtype=np.int64)):
        marks = ",".join("?" * len(group))
        found += conn.execute(
            f"SELECT rowid, customer_text, subject FROM {table(shard)} WHERE rowid IN ({marks})", group.tolist()
        ).fetchall()
    return found


def parse_ints(joined: str | None) -> np.ndarray:
    """The integers of a ``group_concat``: matches come back as one string, not a row each, because
    Python's sqlite3 hands the GIL back and forth on every row it steps (with eight searching
    threads, thousands of hand-overs a query cost more than the query). numpy's text parser
    reads them ~4x faster than ``str.split``."""
    return np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, dtype=np.int64)


def shard_existing(conn: sqlite3.Connection) -> None:
    """Migration 9: move the rows of the single ``conversation_fts`` table into shards, then drop it.
    FTS5 re-tokenises every row: about a minute per few hundred thousand conversations."""
    top = conn.execute("SELECT MAX(rowid) FROM conversation_fts").fetchone()[0]
    for shard in range(shard_of(top) + 1 if top is not None else 0):
        create(conn, shard)
        conn.execute(
            f"INSERT INTO {table(shard)} (rowid, customer_text, subject) "
            "SELECT rowid, customer_text, subject FROM conversation_fts WHERE rowid BETWEEN ? AND ?",
            (lowest_rowid(shard), lowest_rowid(shard + 1) - 1),
        )
    conn.execute("DROP TABLE conversation_fts")


def add_prefix_words(conn: sqlite3.Connection) -> None:
    """Migration 11: every shard gets the ``words`` column (FTS5 tables cannot add a column, so each
    is rebuilt); FTS5 re-tokenises every row, about a minute per few hundred thousand conversations."""
    conn.create_function("vocmine_prefix_form", 1, prefix_form, deterministic=True)
    for shard in shards(conn):
        name = table(shard)
        conn.execute(f"ALTER TABLE {name} RENAME TO {name}_before_words")
        create(conn, shard)
        conn.execute(
            f"INSERT INTO {name} (rowid, customer_text, subject, words) SELECT rowid, customer_text, subject, "
            f"vocmine_prefix_form(customer_text || ' ' || subject) FROM {name}_before_words"
        )
        conn.execute(f"DROP TABLE {name}_before_words")


_WORD = re.compile(r"\w+")
_FULL_WIDTH = str.maketrans(
    {chr(c): chr(c - ord("a") + 0xFF41) for c in range(ord("a"), ord("z") + 1)}
    | {chr(c): chr(c - ord("0") + 0xFF10) for c in range(ord("0"), ord("9") + 1)}
)


def prefix_form(text: str) -> str:
    """The distinct words of ``text``, lower-cased, without accents, ASCII letters and digits in full
    width: what the ``words`` column holds and prefix queries search (see the module's docstring).
    Each word once: a prefix asks whether a conversation has such a word, not where or how often,
    and indexing each word once keeps the column's cost to ingestion small."""
    plain = text.lower()
    if not plain.isascii():  # ASCII has no accents to take off (most customer text: 3x sooner)
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(dict.fromkeys(_WORD.findall(plain.translate(_FULL_WIDTH))))


def to_fts_query(text: str) -> str:
    """The user's search text (``vocmine.store.search_syntax``) as a safe FTS5 expression. Every
    term is quoted, so FTS5 operators or column filters typed by a user are searched as words,
    never interpreted; the grouping is always written out in parentheses."""
    return _render(parse_search(text))


def prefix_words(text: str) -> list[str]:
    """The prefixes a search looks for (``activat`` of ``activat*``), for marking the words they found."""
    return [t.words[-1] for t in positive_terms(parse_search(text)) if t.prefix]


def _render(node: Node) -> str:
    if isinstance(node, Term):
        return _quoted(node)
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(_render(part) for part in node.parts) + ")"
    if isinstance(node, AllOf):
        wanted = [_render(part) for part in node.parts if not isinstance(part, Not)]
        expression = "(" + " AND ".join(wanted) + ")"
        for part in node.parts:
            if isinstance(part, Not):
                expression = f"({expression} NOT {_render(part.part)})"
        return expression
    raise ValueError("an excluded term without a term to exclude it from")  # parse_search refuses these


def _quoted(term: Term) -> str:
    if term.prefix:
        # "e-sim*": the words before the last are words (stemmed), the last a prefix of a word as written.
        *words, last = term.words
        prefix = 'words : "' + prefix_form(last) + '"*'
        return "(" + " AND ".join([*(f'"{w}"' for w in words), prefix]) + ")" if words else prefix
    return '"' + " ".join(term.words) + '"'

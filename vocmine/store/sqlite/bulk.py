"""A first load into an empty store builds the conversations' secondary indexes once, at the end.

Each of the eight indexes on ``conversations`` takes a row per conversation written, and every batch
commits the index pages it touched: one row each in pages all over the index (a customer id or a
start time falls anywhere in it), so the pages written outgrow the rows. Built once over a loaded
table, an index is a sort. Writing the 36,295 threads of the bench's 100 MB mailbox into an empty
store took 6.4-7.5 s with the indexes built at the end against 8.0-8.7 s kept up row by row (medians
6.78 and 8.22 s of five alternating runs each, ``bench/store_writes.py``).

Only for an empty store: once it holds conversations, readers rely on the indexes, and an
ingestion run adds to a store more often than it fills one. A run that dies before the end leaves
the indexes to the next opening of the store (``restore_indexes`` runs on every connection that
writes); meanwhile queries answer the same, only slower. ``turn_keys`` keeps its index: rewriting a
stored thread deletes its turn keys by conversation, which would scan without it.
"""

from __future__ import annotations

import sqlite3

from vocmine.store.sqlite.tx import immediate

# Name and definition, as migration 1 creates them (a test holds the two to each other).
DEFERRED_INDEXES: tuple[tuple[str, str], ...] = (
    ("conversations_started", "conversations (started_at, id)"),
    ("conversations_channel", "conversations (channel, started_at)"),
    ("conversations_agent", "conversations (agent_id)"),
    ("conversations_team", "conversations (team_id)"),
    ("conversations_brand", "conversations (brand)"),
    ("conversations_product", "conversations (product)"),
    ("conversations_language", "conversations (language)"),
    ("conversations_customer", "conversations (customer_id)"),
)


def drop_indexes_if_empty(conn: sqlite3.Connection) -> bool:
    """Drop the deferred indexes when no conversation is stored; whether they were dropped. Runs
    under the write lock, so no other writer stores one between the check and the drop."""
    with immediate(conn):
        empty = conn.execute("SELECT 1 FROM conversations LIMIT 1").fetchone() is None
        if empty:
            for name, _ in DEFERRED_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
    return empty


def restore_indexes(conn: sqlite3.Connection) -> None:
    """Create whichever deferred index is missing (nothing is written when none is)."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    missing = [(name, on) for name, on in DEFERRED_INDEXES if name not in present]
    if not missing:
        return
    with immediate(conn):
        for name, on in missing:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")

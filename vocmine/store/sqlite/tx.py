"""Connections and transactions on the embedded store.

``immediate``: one write transaction. BEGIN IMMEDIATE takes the write lock up front (no upgrade
deadlocks between readers turning writers), and any error rolls back before it propagates.
``read_only``: a second connection for readers that must not queue behind the store's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to a store file, usable from any thread; transactions are explicit."""
    uri = f"{Path(path).expanduser().resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn

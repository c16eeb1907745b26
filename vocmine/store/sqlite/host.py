"""What the embedded store's mixins need from ``SQLiteStore`` (and from each other), as a typed
protocol. Each mixin names it as its base class for the type checker only: at run time the base is
``object``, so nothing declared here can shadow the store's real methods in the method order."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import Any, Protocol

from vocmine.store.columns import FactSnapshot
from vocmine.store.query import ConversationFilter
from vocmine.store.sqlite.columns import SQLiteFacts


class SQLiteHost(Protocol):
    _lock: threading.RLock  # held by every write
    _facts: SQLiteFacts | None  # the in-memory columns, once serving has prepared them

    @property
    def conn(self) -> sqlite3.Connection:
        """The one writing connection."""

    def _reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read-only connection of the calling thread's own."""

    def _where_sql(self, f: ConversationFilter) -> tuple[str, list[Any]]: ...

    def _snapshot(self, f: ConversationFilter) -> FactSnapshot | None: ...

"""The embedded store: one SQLite file, WAL mode, FTS5 over the customer's words.

Layout: ``conversations`` holds each conversation as a JSON document plus the columns filters need;
``conversation_fts_<k>`` index the customer text and subject in shards by rowid (``fts.py``);
``turn_keys`` maps message keys to conversations so replies ingested later join their thread;
analysis results live in the tables of migration 3 (``analysis.py``).
``schema_version`` records applied migrations; ``MIGRATIONS`` is append-only.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from vocmine.errors import StoreError
from vocmine.schema import Conversation, SerializedConversation, utcnow
from vocmine.store.cursor import encode_cursor
from vocmine.store.protocol import Merge
from vocmine.store.query import (
    ConversationFilter,
    SearchHit,
    SearchPage,
    SearchQuery,
    StoreStats,
    UpsertOutcome,
)
from vocmine.store.sqlite import fts as sqlite_fts
from vocmine.store.sqlite.analysis import SQLiteAnalysisMixin
from vocmine.store.sqlite.bulk import drop_indexes_if_empty, restore_indexes
from vocmine.store.sqlite.columns import CHANGE_LOG, SQLiteFacts
from vocmine.store.sqlite.fts import prefix_words, to_fts_query
from vocmine.store.sqlite.jobs import MIGRATION as JOBS_MIGRATION
from vocmine.store.sqlite.jobs import SQLiteJobsMixin
from vocmine.store.sqlite.keys import SQLiteKeysMixin
from vocmine.store.sqlite.review import SQLiteReviewMixin
from vocmine.store.sqlite.search import (
    Passes,
    browse_cursor,
    every_row,
    highlights,
    newest_page,
    rank_page,
    snapshot_passes,
    sql_passes,
)
from vocmine.store.sqlite.semantic import SQLiteSemanticMixin
from vocmine.store.sqlite.sql import chunks, from_epoch, statements, where_clause
from vocmine.store.sqlite.themes import SQLiteThemesMixin
from vocmine.store.sqlite.tx import read_only
from vocmine.store.zones import local_epoch

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[int, str | list[str] | Callable[[sqlite3.Connection], None]]] = [
    (
        1,
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            source TEXT NOT NULL,
            started_at REAL,
            customer_id TEXT, agent_id TEXT, team_id TEXT, brand TEXT, product TEXT, language TEXT,
            nps INTEGER, csat REAL, ces REAL,
            turn_count INTEGER NOT NULL,
            customer_turn_count INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            doc TEXT NOT NULL,
            ingested_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX conversations_started ON conversations (started_at, id);
        CREATE INDEX conversations_channel ON conversations (channel, started_at);
        CREATE INDEX conversations_agent ON conversations (agent_id);
        CREATE INDEX conversations_team ON conversations (team_id);
        CREATE INDEX conversations_brand ON conversations (brand);
        CREATE INDEX conversations_product ON conversations (product);
        CREATE INDEX conversations_language ON conversations (language);
        CREATE INDEX conversations_customer ON conversations (customer_id);
        CREATE TABLE turn_keys (
            key TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE
        );
        CREATE VIRTUAL TABLE conversation_fts USING fts5 (
            customer_text, subject, tokenize = 'porter unicode61 remove_diacritics 2'
        );
        """,
    ),
    (
        2,
        # Rewriting a conversation deletes its old turn keys; without this index that is a scan.
        "CREATE INDEX turn_keys_conversation ON turn_keys (conversation_id);",
    ),
    (
        3,
        # Analysis results. ``analyses`` has one row per analysed conversation (the columns filters and
        # aggregations need, plus the record as JSON without its segments); ``segments`` one row per
        # customer segment with its values and embedding (float32 bytes); ``conversation_flags`` one row
        # per raised signal, so "conversations with an escalation flag" is an index lookup.
        """
        CREATE TABLE analyses (
            conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,
            versions_key TEXT NOT NULL,
            sentiment_label TEXT,
            sentiment_score REAL,
            most_negative REAL,
            trajectory TEXT,
            stage TEXT NOT NULL,
            stage_confidence REAL NOT NULL,
            max_severity INTEGER NOT NULL,
            doc TEXT NOT NULL,
            analysed_at TEXT NOT NULL
        );
        CREATE INDEX analyses_sentiment ON analyses (sentiment_label);
        CREATE INDEX analyses_stage ON analyses (stage);
        CREATE INDEX analyses_severity ON analyses (max_severity);
        CREATE TABLE segments (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            turn_index INTEGER NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            text TEXT NOT NULL,
            sentiment_label TEXT NOT NULL,
            sentiment_score REAL NOT NULL,
            stage TEXT NOT NULL,
            stage_confidence REAL NOT NULL,
            theme_id TEXT,
            vector BLOB
        );
        CREATE INDEX segments_conversation ON segments (conversation_id, position);
        CREATE INDEX segments_theme ON segments (theme_id);
        CREATE TABLE conversation_flags (
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            signal TEXT NOT NULL,
            severity INTEGER NOT NULL,
            PRIMARY KEY (conversation_id, signal)
        );
        CREATE INDEX conversation_flags_signal ON conversation_flags (signal, severity);
        """,
    ),
    (
        4,
        # The theme catalog (one row per theme id ever made, the record as JSON), which fit is current,
        # and an audit trail of analysts' edits.
        """
        CREATE TABLE themes (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            merged_into TEXT,
            doc TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE theme_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE theme_events (
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            theme_id TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """,
    ),
    (
        5,
        # API keys: only a hash of the secret is kept (see vocmine/services/keys.py).
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    ),
    (
        6,
        # The review queue: state per flagged conversation (created on first action), notes,
        # label corrections (feedback for evaluation and retraining) and an audit trail.
        """
        CREATE TABLE reviews (
            conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            assignee TEXT,
            loop_closed INTEGER NOT NULL DEFAULT 0,
            loop_closed_at TEXT,
            revision INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX reviews_status ON reviews (status, assignee);
        CREATE TABLE review_notes (
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            author TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX review_notes_conversation ON review_notes (conversation_id);
        CREATE TABLE label_feedback (
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            doc TEXT NOT NULL
        );
        CREATE INDEX label_feedback_conversation ON label_feedback (conversation_id);
        CREATE TABLE review_events (
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX review_events_conversation ON review_events (conversation_id);
        """,
    ),
    (
        7,
        # Alert rules (the record as JSON) and every webhook delivery attempt's outcome.
        """
        CREATE TABLE alert_rules (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
        CREATE TABLE alert_deliveries (
            at TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            error TEXT
        );
        """,
    ),
    # The change log behind the in-memory aggregation columns, and a covering index for segments'
    # facts (``columns.py``).
    (8, CHANGE_LOG),
    # The full-text index in shards by rowid range (``fts.py`` says why).
    (9, sqlite_fts.shard_existing),
    # Upload jobs' records, so any API worker answers GET /v1/jobs/{id} (``jobs.py``).
    (10, JOBS_MIGRATION),
    # Prefix search on the words as written, not their stems (``fts.py`` says why).
    (11, sqlite_fts.add_prefix_words),
]

# How many threads read the store at once. Reads are CPU work in this process, and Python's sqlite3
# hands the GIL over on every row it steps: past about two threads a core, readers spend more
# time passing the GIL than reading. 8 threads searching the 1M bench store served fewer searches
# a second than 2 did (bench/api.py; the README's HTTP API section has the figures).
READ_SLOTS = 2 * (os.cpu_count() or 1)


def _enable_wal(conn: sqlite3.Connection, wait_s: float = 10.0) -> None:
    """Switch the file to WAL. Switching takes an exclusive lock, and SQLite answers "locked" at once
    (the busy timeout does not apply) while another process opens the same new store; so it is
    tried again for up to ``wait_s`` seconds, as the busy timeout would have waited."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class SQLiteStore(
    SQLiteSemanticMixin, SQLiteReviewMixin, SQLiteKeysMixin, SQLiteJobsMixin, SQLiteThemesMixin, SQLiteAnalysisMixin
):
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._facts: SQLiteFacts | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._read_slots = threading.BoundedSemaphore(READ_SLOTS)

    # ------------------------------------------------------------ connection and migrations

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().resolve().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store's folder {parent}: {exc}") from exc
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=10000")
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            # Statement journals in memory, not in a temporary file: every row an upsert writes (its
            # nine indexes, ON CONFLICT, the turn keys' OR REPLACE) opens one, and past 64 KiB SQLite
            # spills it to a file, a write system call per page it will change. Writing the 36,295
            # threads of the 100 MB bench mailbox with every index kept up (as into a store that
            # holds conversations already) made 2.97 million write calls with journals in files and
            # 0.89 million in memory, and took a median 9.67 s against 8.22 s, five alternating runs
            # (bench/store_writes.py; into an empty store, whose indexes are built after the load,
            # it made no difference). A journal holds the pages one statement changes; this
            # connection runs no temporary tables, and its sorts (an index a migration or a bulk
            # load builds) are of a column or two a conversation.
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.create_function("vocmine_local", 2, local_epoch, deterministic=True)  # trends in a time zone
            self._migrate(conn)
            restore_indexes(conn)  # after a bulk load that did not end (bulk.py)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the SQLite store at {self.path}: {exc}",
                hint="check that the path is a vocmine store and not another file",
            ) from exc
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        latest = MIGRATIONS[-1][0]
        if current > latest:
            raise StoreError(
                f"the store at {self.path} has schema version {current}, newer than this vocmine ({latest})",
                hint="upgrade vocmine",
            )
        for version, script in MIGRATIONS:
            if version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process opening the same new store may have applied it while this one
                # waited for the write lock: the version is read again under the lock.
                if conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0] >= version:
                    conn.execute("COMMIT")
                    continue
                if callable(script):
                    log.info("migrating the store at %s to schema version %d", self.path, version)
                    script(conn)
                else:
                    for statement in statements(script):
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, utcnow().isoformat()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _where_sql(self, f: ConversationFilter) -> tuple[str, list[Any]]:
        return where_clause(f)

    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def prepare_serving(self) -> None:
        """Build the in-memory aggregation columns (``columns.py``: seconds per million
        conversations) so that trends, priorities, drivers and agent views stop scanning the
        store. If they cannot be built, aggregations keep running in SQL (same answers, slower).
        Not for ``:memory:`` stores, which a second connection cannot open."""
        if self._facts is not None or self.path == ":memory:":
            return
        self.conn  # noqa: B018 – migrations first: the change log must exist before it is read
        started = time.perf_counter()
        facts = SQLiteFacts(self.path)
        try:
            snapshot = facts.snapshot()
        except sqlite3.Error:
            log.exception("building the in-memory aggregation columns failed; aggregating in SQL")
            facts.close()
            return
        self._facts = facts
        log.info(
            "in-memory aggregation columns: %d conversations, %d conversation-theme pairs, built in %.1fs",
            int(snapshot.columns.analysed.sum()),
            len(snapshot.pairs.position),
            time.perf_counter() - started,
        )

    def close(self) -> None:
        with self._lock, self._readers_lock:
            if self._facts is not None:
                self._facts.close()
                self._facts = None
            for reader in self._readers:
                reader.close()
            self._readers, self._local = [], threading.local()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ------------------------------------------------------------ writes

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Into an empty store, the conversations' secondary indexes are built once the load ends
        (``bulk.py`` says why, and what happens if it does not end)."""
        with self._lock:
            deferred = drop_indexes_if_empty(self.conn)
        try:
            yield
        finally:
            if deferred:
                with self._lock:
                    restore_indexes(self.conn)

    def upsert_conversations(
        self, conversations: Sequence[Conversation], merge: Merge | None = None
    ) -> list[UpsertOutcome]:
        with self._lock:
            conn = self.conn
            ids = [c.id for c in conversations]
            now = utcnow().isoformat()
            outcomes: list[UpsertOutcome] = []
            # The stored hashes (and, to merge, the stored conversations) are read once the write lock
            # is held: read before it, a writer in another process could come in between and its
            # write would be overwritten, or counted as new twice.
            conn.execute("BEGIN IMMEDIATE")
            try:
                known = self._hashes(ids)
                stored = self._stored(ids) if merge is not None else {}
                keys = _TurnKeyWrites()
                to_index = sqlite_fts.PendingIndex()
                for incoming in conversations:
                    merged = merge(stored.get(incoming.id), incoming) if merge is not None else incoming
                    if isinstance(merged, SerializedConversation):
                        conversation, content_hash = merged.conversation, merged.content_hash
                    else:  # its document is only made if it is written
                        conversation, content_hash = merged, merged.content_hash()
                    stored[conversation.id] = conversation
                    previous = known.get(conversation.id)
                    if previous == content_hash:
                        outcomes.append(UpsertOutcome.UNCHANGED)
                        continue
                    doc = merged.doc if isinstance(merged, SerializedConversation) else conversation.model_dump_json()
                    rowid = self._write(conn, conversation, content_hash, doc, now)
                    new = previous is None
                    to_index.add(rowid, conversation.customer_text(), conversation.subject or "", new_row=new)
                    keys.replace(conn, conversation, stored=not new)
                    known[conversation.id] = content_hash
                    outcomes.append(UpsertOutcome.NEW if previous is None else UpsertOutcome.UPDATED)
                keys.flush(conn)
                to_index.write(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return outcomes

    def _stored(self, ids: list[str]) -> dict[str, Conversation]:
        """The stored conversations, read through the writing connection (inside its transaction)."""
        found: dict[str, Conversation] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT id, doc FROM conversations WHERE id IN ({marks})", chunk)
            found.update({cid: Conversation.model_validate_json(doc) for cid, doc in rows.fetchall()})
        return found

    def _hashes(self, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT id, content_hash FROM conversations WHERE id IN ({marks})", chunk)
            found.update(dict(rows.fetchall()))
        return found

    def _write(
        self,
        conn: sqlite3.Connection,
        c: Conversation,
        content_hash: str,
        doc: str,
        now: str,
    ) -> int:
        """Writes the conversation's row; returns its rowid (for its full-text entry)."""
        survey = c.survey
        row = {
            "id": c.id,
            "channel": c.channel,
            "source": c.source,
            "started_at": c.started_at.timestamp() if c.started_at else None,
            "customer_id": c.customer_id,
            "agent_id": c.agent_id,
            "team_id": c.team_id,
            "brand": c.brand,
            "product": c.product,
            "language": c.language,
            "nps": survey.nps if survey else None,
            "csat": survey.csat if survey else None,
            "ces": survey.ces if survey else None,
            "turn_count": len(c.turns),
            "customer_turn_count": len(c.customer_turns()),
            "content_hash": content_hash,
            "doc": doc,
            "ingested_at": now,
            "updated_at": now,
        }
        if _RETURNING:  # the row's id from the write itself, not a second statement
            return int(conn.execute(_upsert_sql(tuple(row), True), row).fetchall()[0][0])
        conn.execute(_upsert_sql(tuple(row), False), row)
        return int(conn.execute("SELECT rowid FROM conversations WHERE id = ?", (c.id,)).fetchone()[0])

    # ------------------------------------------------------------ reads

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self.get_conversations([conversation_id]).get(conversation_id)

    def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, Conversation]:
        ids = list(dict.fromkeys(conversation_ids))
        found: dict[str, Conversation] = {}
        with self._reading() as conn:
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for cid, doc in conn.execute(f"SELECT id, doc FROM conversations WHERE id IN ({marks})", chunk):
                    found[cid] = Conversation.model_validate_json(doc)
        return found

    def conversation_ids_for_turn_keys(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for chunk in chunks(list(keys), 500):
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(f"SELECT key, conversation_id FROM turn_keys WHERE key IN ({marks})", chunk)
                found.update(dict(rows.fetchall()))
        return found

    def iter_conversations(self, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        where, params = where_clause(filter or ConversationFilter())
        last = 0
        while True:
            with self._lock:
                rows = self.conn.execute(
                    f"SELECT c.rowid, c.doc FROM conversations c WHERE c.rowid > ? AND {where} "
                    "ORDER BY c.rowid LIMIT 500",
                    [last, *params],
                ).fetchall()
            if not rows:
                return
            for rowid, doc in rows:
                last = rowid
                yield Conversation.model_validate_json(doc)

    def search(self, query: SearchQuery) -> SearchPage:
        if query.text and query.text.strip():
            return self._full_text(query)
        if snapshot := self._snapshot(query.filter):
            page = newest_page(snapshot, query.filter, query.limit, query.cursor)
            with self._reading() as conn:
                docs = self._docs(conn, page.rowids)
            hits = [SearchHit(conversation=Conversation.model_validate_json(docs[r])) for r in page.rowids if r in docs]
            return SearchPage(hits=hits, total=page.total, next_cursor=page.next_cursor)
        where, params = where_clause(query.filter)
        with self._lock:
            return self._browse(query, where, params)

    def _full_text(self, query: SearchQuery) -> SearchPage:
        """Relevance-ranked windows of the newest matches (``search.py`` says why)."""
        match = to_fts_query(query.text or "")
        with self._reading() as conn:
            page = rank_page(conn, match, self._passes(conn, query.filter), query.limit, query.cursor)
            rowids = [hit.rowid for hit in page.hits]
            docs = self._docs(conn, rowids)
            marked = highlights(conn, match, rowids, prefix_words(query.text or ""))
        hits = [
            SearchHit(
                conversation=Conversation.model_validate_json(docs[hit.rowid]),
                score=-hit.rank,  # FTS5 bm25 is lower-is-better
                highlights=marked[hit.rowid],
            )
            for hit in page.hits
            if hit.rowid in docs
        ]
        return SearchPage(
            hits=hits, total=page.total, total_relation="eq" if page.exact else "gte", next_cursor=page.next_cursor
        )

    @staticmethod
    def _docs(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(rowids))
        return dict(conn.execute(f"SELECT rowid, doc FROM conversations WHERE rowid IN ({marks})", rowids))

    def _passes(self, conn: sqlite3.Connection, f: ConversationFilter) -> Passes:
        if f == ConversationFilter():
            return every_row
        if snapshot := self._snapshot(f):
            return snapshot_passes(snapshot, f)
        where, params = where_clause(f)
        return sql_passes(conn, where, params)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of this thread's own, so searches run side by side (SQLite reads
        do not block each other in WAL mode) instead of queueing on the store's one connection.
        ``:memory:`` stores cannot be opened twice: they read through the store's connection.

        At most ``READ_SLOTS`` threads read at once; the others wait, asleep, for a slot."""
        if self.path == ":memory:":
            with self._lock:
                yield self.conn
            return
        conn = getattr(self._local, "reader", None)
        if conn is None:
            self.conn  # noqa: B018 – migrations first, so the reader never sees an older schema
            conn = read_only(self.path)
            self._local.reader = conn
            with self._readers_lock:  # not the write lock: a reader never waits for a write
                self._readers.append(conn)
        if getattr(self._local, "holds_slot", False):  # a read inside a read: the slot is this thread's
            yield conn
            return
        with self._read_slots:
            self._local.holds_slot = True
            try:
                yield conn
            finally:
                self._local.holds_slot = False

    def _browse(self, query: SearchQuery, where: str, params: list[Any]) -> SearchPage:
        """The newest conversations matching the filter, in SQL (``newest_page`` does the same on
        the in-memory columns). Ties in start time go newest-stored first, by rowid."""
        total = self.conn.execute(f"SELECT COUNT(*) FROM conversations c WHERE {where}", params).fetchone()[0]
        sql, page_params = f"FROM conversations c WHERE {where}", list(params)
        if query.cursor:
            started, last = browse_cursor(query.cursor)
            sql += " AND (COALESCE(c.started_at, 0) < ? OR (COALESCE(c.started_at, 0) = ? AND c.rowid < ?))"
            page_params += [started, started, last]
        rows = self.conn.execute(
            f"SELECT c.rowid, c.doc, COALESCE(c.started_at, 0) {sql} "
            "ORDER BY COALESCE(c.started_at, 0) DESC, c.rowid DESC LIMIT ?",
            [*page_params, query.limit + 1],
        ).fetchall()
        hits = [SearchHit(conversation=Conversation.model_validate_json(doc)) for _, doc, _ in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            last_row = rows[query.limit - 1]
            next_cursor = encode_cursor([last_row[2], last_row[0]])
        return SearchPage(hits=hits, total=total, next_cursor=next_cursor)

    def latest_start(self, filter: ConversationFilter | None = None) -> datetime | None:
        where, params = where_clause(filter or ConversationFilter())
        with self._lock:
            row = self.conn.execute(f"SELECT MAX(c.started_at) FROM conversations c WHERE {where}", params).fetchone()
        return from_epoch(row[0])

    def stats(self, filter: ConversationFilter | None = None) -> StoreStats:
        where, params = where_clause(filter or ConversationFilter())
        with self._lock:
            conn = self.conn
            row = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(turn_count), 0), COALESCE(SUM(customer_turn_count), 0), "
                "SUM(nps IS NOT NULL OR csat IS NOT NULL OR ces IS NOT NULL), MIN(started_at), MAX(started_at) "
                f"FROM conversations c WHERE {where}",
                params,
            ).fetchone()

            def counts(column: str) -> dict[str, int]:
                rows = conn.execute(
                    f"SELECT COALESCE({column}, 'unknown'), COUNT(*) FROM conversations c WHERE {where} "
                    f"GROUP BY 1 ORDER BY 2 DESC",
                    params,
                )
                return dict(rows.fetchall())

            return StoreStats(
                conversations=row[0],
                turns=row[1],
                customer_turns=row[2],
                with_survey=row[3] or 0,
                first_started_at=from_epoch(row[4]),
                last_started_at=from_epoch(row[5]),
                by_channel=counts("channel"),
                by_source=counts("source"),
                by_language=counts("language"),
            )


_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)  # INSERT ... RETURNING


@functools.lru_cache(maxsize=2)
def _upsert_sql(columns: tuple[str, ...], returning: bool) -> str:
    """The statement that writes a row of these columns, made once (not for every conversation)."""
    sql = (
        f"INSERT INTO conversations ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
        "ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("id", "ingested_at"))
    )
    return sql + " RETURNING rowid" if returning else sql


class _TurnKeyWrites:
    """A written conversation's turn keys replace its stored ones: deleted and inserted for a whole
    upsert at once (two statements instead of two per conversation). The same as doing it per
    conversation: a conversation's delete only touches rows of its id, so the deletes may all go first
    (before any insert) as long as no id is written twice, in which case what is pending goes first.
    A conversation whose row is new has no keys to delete (each key's conversation must exist): its
    delete is left out (7,320 new mail threads upserted in 1.15-1.23 s against 1.52-1.54 s with it)."""

    def __init__(self) -> None:
        self.written: dict[str, None] = {}
        self.stored_ids: list[tuple[str]] = []
        self.rows: list[tuple[str, str]] = []

    def replace(self, conn: sqlite3.Connection, c: Conversation, *, stored: bool) -> None:
        """``stored``: the conversation had a row before this write."""
        if c.id in self.written:
            self.flush(conn)
        self.written[c.id] = None
        if stored:
            self.stored_ids.append((c.id,))
        self.rows += [(t.key, c.id) for t in c.turns if t.key]

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany("DELETE FROM turn_keys WHERE conversation_id = ?", self.stored_ids)
        conn.executemany("INSERT OR REPLACE INTO turn_keys (key, conversation_id) VALUES (?, ?)", self.rows)
        self.written, self.stored_ids, self.rows = {}, [], []

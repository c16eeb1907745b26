"""The embedded store's full-text search past one ranking window (``search.py``): paging
reaches every match once, windows come newest first and are ranked by relevance inside, the total
is a lower bound until the last window, and highlights equal FTS5's own snippets."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from vocmine.errors import ConfigError
from vocmine.schema import Conversation, Turn
from vocmine.store.cursor import encode_cursor
from vocmine.store.query import ConversationFilter, SearchQuery
from vocmine.store.sqlite import fts as sqlite_fts
from vocmine.store.sqlite import search as sqlite_search
from vocmine.store.sqlite import store as sqlite_module
from vocmine.store.sqlite.store import SQLiteStore

WINDOW = 10


@pytest.fixture(params=[None, 8], ids=["one-index-shard", "index-shards-of-8"])
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    monkeypatch.setattr(sqlite_search, "RANK_WINDOW", WINDOW)
    if request.param:  # windows then span shards, each scored with its own term statistics
        monkeypatch.setattr(sqlite_fts, "SHARD_ROWS", request.param)
    monkeypatch.setattr(sqlite_search, "SCAN_CHUNK", 4)  # several scan rounds per window
    store = SQLiteStore(str(tmp_path / "store.sqlite"))
    # Ingested oldest first; "refund" appears 1–4 times, so relevance differs inside each window.
    store.upsert_conversations(
        [
            Conversation(
                id=f"c{n:02d}",
                channel="chat" if n % 2 else "email",
                source="test",
                turns=[Turn(role="customer", text=" ".join(["refund"] * (1 + n % 4) + ["about", "order", str(n)]))],
            )
            for n in range(45)
        ]
    )
    yield store
    store.close()


def _pages(store: SQLiteStore, query: SearchQuery) -> list:
    pages, cursor = [], None
    while True:
        page = store.search(query.model_copy(update={"cursor": cursor}))
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("columns", [False, True], ids=["sql-filter", "column-filter"])
def test_pages_walk_every_window_newest_first_ranked_inside(store, columns):
    if columns:
        store.prepare_serving()
    query = SearchQuery(text="refund", filter=ConversationFilter(channels=["chat"]), limit=3)
    pages = _pages(store, query)
    ids = [h.conversation.id for p in pages for h in p.hits]
    chat = [f"c{n:02d}" for n in range(44, -1, -1) if n % 2]  # 22 matches, newest first
    assert sorted(ids) == sorted(chat) and len(ids) == len(set(ids))
    ties = []
    for start in range(0, len(chat), WINDOW):  # each window holds the next WINDOW newest matches
        window = ids[start : start + WINDOW]
        assert set(window) == set(chat[start : start + WINDOW])
        scores = [h.score for p in pages for h in p.hits][start : start + WINDOW]
        assert scores == sorted(scores, reverse=True)
        ties += [(a, b) for a, b, s, t in zip(window, window[1:], scores, scores[1:], strict=False) if s == t]
    assert ties and all(a > b for a, b in ties)  # equal scores (as many are here): the newest first
    assert (pages[0].total, pages[0].total_relation) == (WINDOW, "gte")
    assert (pages[-1].total, pages[-1].total_relation) == (22, "eq")


def test_a_query_within_one_window_is_exact(store):
    page = store.search(SearchQuery(text='refund "order 7"', limit=5))
    assert [h.conversation.id for h in page.hits] == ["c07"]
    assert (page.total, page.total_relation, page.next_cursor) == (1, "eq", None)


def test_highlights_are_fts5_snippets(store):
    page = store.search(SearchQuery(text="refund order", limit=5))
    for hit in page.hits:
        rowid = store.conn.execute("SELECT rowid FROM conversations WHERE id = ?", (hit.conversation.id,)).fetchone()[0]
        shard = sqlite_fts.table(sqlite_fts.shard_of(rowid))
        expected = store.conn.execute(
            f"SELECT snippet({shard}, 0, '<mark>', '</mark>', ' … ', 24) FROM {shard} "
            f"WHERE {shard} MATCH ? AND rowid = ?",
            ('"refund" "order"', rowid),
        ).fetchone()[0]
        assert hit.highlights == [expected] and "<mark>refund</mark>" in expected


def test_the_highlight_table_tokenizes_as_the_store_does(store):
    created = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'conversation_fts_0'").fetchone()[0]
    assert f"tokenize = '{sqlite_fts.TOKENIZE}'" in created


@pytest.mark.parametrize("values", [["x", 0, 1.0, 3], [10, 0, None, 3], [10, True, 1.0, 3]])
def test_a_tampered_cursor_is_a_clear_error(store, values):
    with pytest.raises(ConfigError, match="cursor"):
        store.search(SearchQuery(text="refund", cursor=encode_cursor(values)))


def test_each_rowid_range_has_its_own_index_shard(store):
    rowids = [r[0] for r in store.conn.execute("SELECT rowid FROM conversations")]
    expected = sorted({sqlite_fts.shard_of(r) for r in rowids}, reverse=True)
    assert sqlite_fts.shards(store.conn) == expected
    for shard in expected:
        held = [r[0] for r in store.conn.execute(f"SELECT rowid FROM {sqlite_fts.table(shard)}")]
        assert held == [r for r in rowids if sqlite_fts.shard_of(r) == shard]


def _chat(cid: str, text: str) -> Conversation:
    return Conversation(id=cid, channel="chat", source="test", turns=[Turn(role="customer", text=text)])


def _found(store: SQLiteStore, text: str) -> list[str]:
    return sorted(hit.conversation.id for hit in store.search(SearchQuery(text=text, limit=100)).hits)


def test_the_index_holds_each_conversation_as_last_written(store):
    """The full-text entries of a batch are written together at its end (``fts.PendingIndex``): a
    conversation written twice in one batch, or rewritten by a later batch, is found by its last
    text only, once; a batch that fails leaves no entry behind."""
    store.upsert_conversations([_chat("twice", "parcel went missing"), _chat("twice", "voucher never arrived")])
    assert _found(store, "voucher") == ["twice"]
    assert _found(store, "parcel") == []
    store.upsert_conversations([_chat("twice", "router keeps rebooting"), _chat("other", "voucher expired")])
    assert _found(store, "voucher") == ["other"]
    assert _found(store, "router") == ["twice"]

    def failing(stored, incoming):
        if incoming.id == "broken":
            raise RuntimeError("merge failed")
        return incoming

    with pytest.raises(RuntimeError):
        store.upsert_conversations([_chat("fresh", "invoice doubled"), _chat("broken", "x")], merge=failing)
    assert _found(store, "invoice") == []
    rows = store.conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
    entries = sum(
        store.conn.execute(f"SELECT COUNT(*) FROM {sqlite_fts.table(shard)}").fetchone()[0]
        for shard in sqlite_fts.shards(store.conn)
    )
    assert entries == rows


def _written_by(
    version: int,
    conversations: list[Conversation],
    rewrite: Callable[[sqlite3.Connection], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[SQLiteStore, SQLiteStore]:
    """A store of ``conversations`` as schema ``version`` wrote it (``rewrite`` turns today's index
    into that version's), opened with this version so it migrates; and a store of the same
    conversations built now. Shards of 8 rows, so several exist."""
    monkeypatch.setattr(sqlite_fts, "SHARD_ROWS", 8)
    old_path, new_path = str(tmp_path / "old.sqlite"), str(tmp_path / "new.sqlite")
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", sqlite_module.MIGRATIONS[:version])
    old = SQLiteStore(old_path)
    old.upsert_conversations(conversations)
    rewrite(old.conn)
    old.close()
    monkeypatch.undo()
    monkeypatch.setattr(sqlite_fts, "SHARD_ROWS", 8)
    migrated, fresh = SQLiteStore(old_path), SQLiteStore(new_path)
    fresh.upsert_conversations(conversations)
    assert migrated.schema_version() == sqlite_module.MIGRATIONS[-1][0]
    return migrated, fresh


def test_migration_9_moves_an_unsharded_index_into_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store written before the index was sharded (one ``conversation_fts`` table) searches the
    same after opening with this version as a store built sharded."""
    conversations = [
        Conversation(id=f"c{n:02d}", channel="chat", source="test", turns=[Turn(role="customer", text=f"refund {n}")])
        for n in range(30)
    ]

    def unsharded(conn: sqlite3.Connection) -> None:  # what version 8 wrote: every row in the one table
        for shard in sqlite_fts.shards(conn):
            conn.execute(
                f"INSERT INTO conversation_fts (rowid, customer_text, subject) "
                f"SELECT rowid, customer_text, subject FROM {sqlite_fts.table(shard)}"
            )
            conn.execute(f"DROP TABLE {sqlite_fts.table(shard)}")
        assert conn.execute("SELECT COUNT(*) FROM conversation_fts").fetchone()[0] == 30

    migrated, fresh = _written_by(8, conversations, unsharded, tmp_path, monkeypatch)
    assert not migrated.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'conversation_fts'").fetchall()
    assert sqlite_fts.shards(migrated.conn) == sqlite_fts.shards(fresh.conn) == [3, 2, 1, 0]
    query = SearchQuery(text="refund", limit=7)
    assert _pages(migrated, query) == _pages(fresh, query)
    migrated.close()
    fresh.close()


def test_migration_11_gives_every_shard_the_words_prefixes_are_matched_on(tmp_path: Path, monkeypatch):
    """A store written before prefixes were matched on the words as written (shards of two columns)
    finds the same words for ``activat*`` after opening with this version as a store built now."""
    texts = ["activate my sim", "activation failed", "active user", "act now"]
    conversations = [
        Conversation(id=f"c{n:02d}", channel="chat", source="test", turns=[Turn(role="customer", text=texts[n % 4])])
        for n in range(20)
    ]

    def two_columns(conn: sqlite3.Connection) -> None:  # what version 10 wrote
        for shard in sqlite_fts.shards(conn):
            name = sqlite_fts.table(shard)
            conn.execute(f"ALTER TABLE {name} RENAME TO before")
            conn.execute(
                f"CREATE VIRTUAL TABLE {name} USING fts5 (customer_text, subject, tokenize = '{sqlite_fts.TOKENIZE}')"
            )
            conn.execute(
                f"INSERT INTO {name} (rowid, customer_text, subject) SELECT rowid, customer_text, subject FROM before"
            )
            conn.execute("DROP TABLE before")

    migrated, fresh = _written_by(10, conversations, two_columns, tmp_path, monkeypatch)
    query = SearchQuery(text="activat*", limit=50)
    found = {hit.conversation.id for hit in migrated.search(query).hits}
    assert found == {f"c{n:02d}" for n in range(20) if n % 4 in (0, 1)}
    assert _pages(migrated, query) == _pages(fresh, query)
    migrated.close()
    fresh.close()

"""The embedded store's full-text search past one ranking window (``sqlite_search.py``): paging
reaches every match once, windows come newest first and are ranked by relevance inside, the total
is a lower bound until the last window, and highlights equal FTS5's own snippets."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocmine.errors import ConfigError
from vocmine.schema import Conversation, Turn
from vocmine.store import sqlite_search
from vocmine.store.base import ConversationFilter, SearchQuery, encode_cursor
from vocmine.store.sqlite import SQLiteStore

WINDOW = 10


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sqlite_search, "RANK_WINDOW", WINDOW)
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
    for start in range(0, len(chat), WINDOW):  # each window holds the next WINDOW newest matches
        window = ids[start : start + WINDOW]
        assert set(window) == set(chat[start : start + WINDOW])
        scores = [h.score for p in pages for h in p.hits][start : start + WINDOW]
        assert scores == sorted(scores, reverse=True)
    assert (pages[0].total, pages[0].total_relation) == (WINDOW, "gte")
    assert (pages[-1].total, pages[-1].total_relation) == (22, "eq")


def test_a_query_within_one_window_is_exact(store):
    page = store.search(SearchQuery(text='refund "order 7"', limit=5))
    assert [h.conversation.id for h in page.hits] == ["c07"]
    assert (page.total, page.total_relation, page.next_cursor) == (1, "eq", None)


def test_highlights_are_fts5_snippets(store):
    page = store.search(SearchQuery(text="refund order", limit=5))
    for hit in page.hits:
        expected = store.conn.execute(
            "SELECT snippet(conversation_fts, 0, '<mark>', '</mark>', ' … ', 24) FROM conversation_fts "
            "WHERE conversation_fts MATCH ? AND rowid = (SELECT rowid FROM conversations WHERE id = ?)",
            ('"refund" "order"', hit.conversation.id),
        ).fetchone()[0]
        assert hit.highlights == [expected] and "<mark>refund</mark>" in expected


def test_the_highlight_table_tokenizes_as_the_store_does(store):
    created = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'conversation_fts'").fetchone()[0]
    assert f"tokenize = '{sqlite_search.FTS_TOKENIZE}'" in created


@pytest.mark.parametrize("values", [["x", 0, 1.0, 3], [10, 0, None, 3], [10, True, 1.0, 3]])
def test_a_tampered_cursor_is_a_clear_error(store, values):
    with pytest.raises(ConfigError, match="cursor"):
        store.search(SearchQuery(text="refund", cursor=encode_cursor(values)))

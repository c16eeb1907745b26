"""The embedded store itself: migrations, WAL, refusing files it cannot use, store URLs, and the
translation of users' search syntax into FTS5. What every backend must do: vocmine/testing/contract."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from vocmine.errors import ConfigError, StoreError
from vocmine.services.keys import create_key, verify_token
from vocmine.store.factory import open_store
from vocmine.store.sqlite.fts import to_fts_query
from vocmine.store.sqlite.store import MIGRATIONS, SQLiteStore
from vocmine.testing.factories import analysis, dated_conversation


def test_schema_is_versioned_and_wal_is_on(store, tmp_path):
    store.stats()
    assert store.schema_version() == MIGRATIONS[-1][0] == 11
    mode = sqlite3.connect(tmp_path / "store.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_store_newer_than_code_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    SQLiteStore(str(path)).stats()
    sqlite3.connect(path).execute("INSERT INTO schema_version VALUES (99, 'x')").connection.commit()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(str(path)).stats()


def test_not_a_store_is_a_clear_error(tmp_path):
    path = tmp_path / "not-a-db.sqlite"
    path.write_bytes(b"hello, I am a text file" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(str(path)).stats()


def test_open_store_urls(tmp_path):
    assert isinstance(open_store(f"sqlite:///{tmp_path}/a.sqlite"), SQLiteStore)
    from vocmine.store.elastic.store import ElasticStore

    elastic = open_store("https://elastic:secret@localhost:9200")  # connects on first use, not here
    assert isinstance(elastic, ElasticStore) and elastic.prefix == "vocmine"
    with pytest.raises(ConfigError, match="unknown store URL"):
        open_store("postgres://x")


def test_older_store_is_migrated_in_place_keeping_its_data(tmp_path, monkeypatch):
    import vocmine.store.sqlite.store as sqlite_module

    path = str(tmp_path / "old.sqlite")
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", sqlite_module.MIGRATIONS[:1])
    old = SQLiteStore(path)
    old.upsert_conversations([dated_conversation("kept", "my refund")])
    assert old.schema_version() == 1
    old.close()
    monkeypatch.undo()

    upgraded = SQLiteStore(path)
    assert upgraded.schema_version() == sqlite_module.MIGRATIONS[-1][0]
    assert upgraded.get_conversation("kept") is not None
    indexes = {row[1] for row in upgraded.conn.execute("PRAGMA index_list(turn_keys)")}
    assert "turn_keys_conversation" in indexes


def test_users_query_syntax_becomes_quoted_fts5():
    assert to_fts_query('a "b c" OR d') == '(("a" AND "b c") OR "d")'
    assert to_fts_query("refund -twice") == '(("refund") NOT "twice")'
    assert to_fts_query("activat*") == 'words : "ａｃｔｉｖａｔ"*'


def test_api_reads_do_not_queue_behind_a_write(store):
    """Key checks (every API request), conversation and analysis fetches and the theme list read
    through per-thread connections, so an ingest holding the store's write lock does not stall
    them (WAL lets them read the last committed state)."""
    _, token = create_key(store, "reader", ["read"])
    store.upsert_conversations([dated_conversation("c1", "where is my refund")])
    answers: dict[str, object] = {}

    def read() -> None:
        answers["key"] = verify_token(store, token)
        answers["conversation"] = store.get_conversation("c1")
        answers["analyses"] = store.get_analyses(["c1"])
        answers["themes"] = store.list_themes()

    with store._lock:  # what a write batch holds while it runs
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "a read waited for the write lock"
    assert answers["key"] is not None and answers["conversation"].id == "c1"
    assert answers["analyses"] == {} and answers["themes"] == []


def test_reads_past_the_read_slots_wait_and_a_read_inside_a_read_does_not(tmp_path, monkeypatch):
    import vocmine.store.sqlite.store as sqlite_module

    monkeypatch.setattr(sqlite_module, "READ_SLOTS", 1)
    store = SQLiteStore(str(tmp_path / "slots.sqlite"))
    store.upsert_conversations([dated_conversation("c1", "where is my refund")])
    fetched = threading.Event()

    def read() -> None:
        store.get_conversation("c1")
        fetched.set()

    try:
        with store._reading():
            with store._reading():  # this thread's slot already: it must not wait for itself
                assert store.get_conversation("c1") is not None
            reader = threading.Thread(target=read)
            reader.start()
            assert not fetched.wait(0.5), "a second reader did not wait for the one slot"
        assert fetched.wait(10), "the waiting reader never got the slot back"
        reader.join(10)
    finally:
        store.close()


def test_two_evaluations_at_once_agree_on_which_alert_was_first(tmp_path):
    """Two processes (here: two stores on one file, each with its own connection, in threads) alert
    on the same conversations at once: for each, exactly one is told it was first, so one webhook."""
    import threading

    path = str(tmp_path / "alerts.sqlite")
    setup = SQLiteStore(path)
    conversations = [dated_conversation(f"c{n}", "I want to cancel") for n in range(100)]
    setup.upsert_conversations(conversations)
    setup.write_analyses([analysis(c) for c in conversations], [None] * len(conversations))
    setup.close()
    stores = [SQLiteStore(path), SQLiteStore(path)]
    firsts: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def evaluate(n: int) -> None:
        start.wait()
        for c in range(100):
            if stores[n].alert_review(f"c{c}", "alert:r1", "matched"):
                firsts[n].append(f"c{c}")

    threads = [threading.Thread(target=evaluate, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts[0] + firsts[1]) == sorted(f"c{c}" for c in range(100))
    for store in stores:
        store.close()

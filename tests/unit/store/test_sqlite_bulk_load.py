"""A first load into an empty SQLite store builds the conversations' indexes at the end
(``vocmine/store/sqlite/bulk.py``); what the store answers is the same. The contract suite reads a
bulk-loaded store through every backend (``filled``); these are the SQLite specifics."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import DATA
from vocmine.services.ingestion import ingest_paths
from vocmine.store.sqlite.bulk import DEFERRED_INDEXES, drop_indexes_if_empty
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import dated_conversation

DEFERRED = {name for name, _ in DEFERRED_INDEXES}


def _indexes(path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conversations'")
        return {name: sql for name, sql in rows if sql}  # sql is NULL for the primary key's own index


def test_the_deferred_indexes_are_every_index_the_migrations_make_on_conversations(tmp_path):
    path = tmp_path / "s.sqlite"
    SQLiteStore(str(path)).stats()
    assert _indexes(path) == {name: f"CREATE INDEX {name} ON {on}" for name, on in DEFERRED_INDEXES}


def test_an_empty_store_gets_its_indexes_after_the_load(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(str(path))
    with store.bulk_load():
        assert _indexes(path) == {}
        store.upsert_conversations([dated_conversation(f"c{i}", "refund", day=i, brand="Acme") for i in range(30)])
    assert set(_indexes(path)) == DEFERRED
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # indexes agree with the rows
        plan = " ".join(
            str(row) for row in conn.execute("EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE brand = 'Acme'")
        )
    assert "conversations_brand" in plan


def test_a_store_holding_conversations_keeps_its_indexes_through_a_load(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(str(path))
    store.upsert_conversations([dated_conversation("a", "hello")])
    with store.bulk_load():
        assert set(_indexes(path)) == DEFERRED
        store.upsert_conversations([dated_conversation("b", "hello again")])


def test_a_load_that_fails_still_ends_with_the_indexes(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(str(path))
    with pytest.raises(KeyboardInterrupt), store.bulk_load():
        store.upsert_conversations([dated_conversation("a", "hello")])
        raise KeyboardInterrupt
    assert set(_indexes(path)) == DEFERRED


def test_a_load_whose_process_died_leaves_the_indexes_to_the_next_opening(tmp_path):
    path = tmp_path / "s.sqlite"
    dying = SQLiteStore(str(path))
    assert drop_indexes_if_empty(dying.conn)  # what bulk_load does first; the process then dies
    dying.upsert_conversations([dated_conversation("a", "hello")])
    assert _indexes(path) == {}
    SQLiteStore(str(path)).stats()  # any opening that writes
    assert set(_indexes(path)) == DEFERRED


def test_an_ingestion_into_an_empty_store_ends_indexed(settings, tmp_path):
    path = tmp_path / "s.sqlite"
    report = ingest_paths(
        [str(DATA / "chat"), str(DATA / "email")], settings, SQLiteStore(str(path)), report_dir=tmp_path
    )
    assert report.records_stored and set(_indexes(path)) == DEFERRED

"""Partitions of the pending conversations (``plan_partitions`` / ``iter_partition``), what scale-out
analysis hands its workers, held to one contract on both backends the way test_backends.py runs the
store contract: the embedded SQLite store (rowid ranges) and Elasticsearch on a live server (sliced
point in time; the noida-db emulator the tests start, or VOCMINE_TEST_ES_URL's cluster)."""

from __future__ import annotations

import json
import pickle
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vocmine.errors import StoreError
from vocmine.schema import Turn
from vocmine.store.protocol import Partition, Store
from vocmine.store.query import ConversationFilter, versions_key
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import VERSIONS, analysis, conversation

KEY = versions_key(VERSIONS)


def members(store: Store, plan: list[Partition], filter: ConversationFilter | None = None) -> list[list[str]]:
    return [[c.id for c in store.iter_partition(p, KEY, filter)] for p in plan]


class PartitionContract:
    def test_every_pending_conversation_is_in_exactly_one_partition(self, store: Store) -> None:
        many = [conversation(f"c{i:02}", f"text {i}") for i in range(23)]
        store.upsert_conversations(many)
        store.write_analyses([analysis(c) for c in many[3:8]], [None] * 5)  # analysed: in no partition
        plan = store.plan_partitions(KEY, 4)
        try:
            assert [p.number for p in plan] == [0, 1, 2, 3] and {p.of for p in plan} == {4}
            parts = members(store, plan)
            seen = Counter(cid for part in parts for cid in part)
            assert (
                set(seen)
                == {c.id for c in store.iter_unanalysed(KEY)}
                == {c.id for c in many} - {c.id for c in many[3:8]}
            )
            assert set(seen.values()) == {1}
        finally:
            store.release_partitions(plan)

    def test_no_more_partitions_than_pending_conversations_and_none_when_nothing_is_pending(self, store: Store) -> None:
        two = [conversation("a", "refund please"), conversation("b", "where is my parcel")]
        store.upsert_conversations(two)
        plan = store.plan_partitions(KEY, 8)
        try:
            assert len(plan) == 2
            assert sorted(cid for part in members(store, plan) for cid in part) == ["a", "b"]
        finally:
            store.release_partitions(plan)
        store.write_analyses([analysis(c) for c in two], [None, None])
        assert store.plan_partitions(KEY, 8) == []

    def test_a_partition_read_again_skips_what_was_analysed_since(self, store: Store) -> None:
        # What a retried partition sees after a worker died half way through it.
        many = [conversation(f"c{i:02}", f"text {i}") for i in range(12)]
        store.upsert_conversations(many)
        plan = store.plan_partitions(KEY, 2)
        try:
            first = list(store.iter_partition(plan[0], KEY))
            done = first[: len(first) // 2]
            store.write_analyses([analysis(c) for c in done], [None] * len(done))
            again = [c.id for c in store.iter_partition(plan[0], KEY)]
            assert again == [c.id for c in first[len(done) :]]
            assert {cid for cid in again} | {c.id for c in done} == {c.id for c in first}
        finally:
            store.release_partitions(plan)

    def test_changed_and_retrained_conversations_are_pending_and_the_filter_holds(self, store: Store) -> None:
        a, b, c = conversation("a", "refund please"), conversation("b", "love it"), conversation("c", "meh")
        email = conversation("d", "an email").model_copy(update={"channel": "email"})
        store.upsert_conversations([a, b, c, email])
        store.write_analyses([analysis(x) for x in (a, b, c, email)], [None] * 4)
        changed = a.model_copy(update={"turns": [*a.turns, Turn(role="customer", text="any news?")]})
        store.upsert_conversations([changed])
        plan = store.plan_partitions(KEY, 3)
        try:
            assert [cid for part in members(store, plan) for cid in part] == ["a"]
        finally:
            store.release_partitions(plan)
        retrained = versions_key({**VERSIONS, "journey": "j2"})
        chats = ConversationFilter(channels=["chat"])
        plan = store.plan_partitions(retrained, 2, chats)
        try:
            found = [c.id for p in plan for c in store.iter_partition(p, retrained, chats)]
            assert sorted(found) == ["a", "b", "c"]
        finally:
            store.release_partitions(plan)

    def test_a_partition_travels_as_plain_values(self, store: Store) -> None:
        store.upsert_conversations([conversation(f"c{i}", "hello there") for i in range(5)])
        plan = store.plan_partitions(KEY, 2)
        try:
            assert pickle.loads(pickle.dumps(plan)) == plan
            for p in plan:
                back = json.loads(json.dumps([p.number, p.of, list(p.bounds)]))
                assert Partition(back[0], back[1], tuple(back[2])) == p
        finally:
            store.release_partitions(plan)


class TestSQLitePartitions(PartitionContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        backend = SQLiteStore(str(tmp_path / "store.sqlite"))
        yield backend
        backend.close()

    def test_rowid_ranges_are_balanced(self, store: Store) -> None:
        many = [conversation(f"c{i:02}", f"text {i}") for i in range(30)]
        store.upsert_conversations(many)
        store.write_analyses([analysis(c) for c in many[:10]], [None] * 10)  # pending rows start at rowid 11
        plan = store.plan_partitions(KEY, 4)
        assert [len(part) for part in members(store, plan)] == [5, 5, 5, 5]


class TestElasticPartitions(PartitionContract):
    @pytest.fixture
    def store(self, elastic_store: Store) -> Store:
        return elastic_store

    def test_a_store_on_other_indices_refuses_the_partition(self, store: Store, es_server: Any) -> None:
        # What a worker started without the driver's VOCMINE_ES_PREFIX would otherwise do: find none
        # of the partition's conversations pending, and skip them all.
        from vocmine.store.elastic.store import ElasticOptions, ElasticStore

        store.upsert_conversations([conversation("a", "refund please")])
        plan = store.plan_partitions(KEY, 1)
        other = ElasticStore(es_server.url, ElasticOptions(prefix=f"vmtest-other-{uuid.uuid4().hex[:8]}", replicas=0))
        try:
            with pytest.raises(StoreError, match="VOCMINE_ES_PREFIX"):
                list(other.iter_partition(plan[0], KEY))
        finally:
            store.release_partitions(plan)
            other.drop_indices()
            other.close()

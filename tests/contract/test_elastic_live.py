"""What only the Elasticsearch store does, on a live server (``es_server`` in tests/conftest.py: the
noida-db emulator the tests start, or the cluster VOCMINE_TEST_ES_URL names): versioned indices behind
aliases with strict mappings, a migration that moves the alias in one request, writers that race
(sequence-number guards answered 409 by the server), iterations through a point in time, kNN.
The request bodies themselves are checked offline against Elasticsearch's schema
(tests/unit/store/test_elastic_store_offline.py); these tests check what a server makes of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from vocmine.errors import ConflictError, StoreError
from vocmine.schema import Turn
from vocmine.store.query import ConversationFilter, SearchQuery, UpsertOutcome, versions_key
from vocmine.testing.elastic import LiveServer
from vocmine.testing.factories import VERSIONS, analysis, conversation

pytest.importorskip("elasticsearch", reason="the Elasticsearch store needs the elastic extra")

from vocmine.store.elastic.docs import BulkAction
from vocmine.store.elastic.schema import KINDS, MAPPING_VERSION, alias, index_name
from vocmine.store.elastic.store import ElasticStore


@pytest.fixture
def store(elastic_store: ElasticStore) -> ElasticStore:
    return elastic_store


@pytest.fixture
def other_writer(store: ElasticStore, es_server: LiveServer) -> Iterator[ElasticStore]:
    """A second store on the same indices, as another worker process would be."""
    other = ElasticStore(es_server.url, store.options)
    yield other
    other.close()


def _once_after(method: Callable[..., Any], action: Callable[[], None]) -> Callable[..., Any]:
    """``method``, which runs ``action`` right after its first call returns: another writer between
    this writer's read and its write."""
    done: list[bool] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if not done:
            done.append(True)
            action()
        return result

    return wrapped


def test_each_kind_is_a_versioned_index_behind_its_write_alias_with_strict_mappings(store):
    store.ensure_indices()
    for kind in KINDS:
        aliases = store.es.indices.get_alias(name=alias(store.prefix, kind)).body
        assert aliases == {
            index_name(store.prefix, kind): {"aliases": {alias(store.prefix, kind): {"is_write_index": True}}}
        }
    mapping = store.es.indices.get_mapping(index=index_name(store.prefix, "conversations")).body
    conversations = mapping[index_name(store.prefix, "conversations")]["mappings"]
    assert conversations["dynamic"] == "strict"
    assert conversations["properties"]["customer_text"]["analyzer"] == "english"
    assert conversations["properties"]["customer_text"]["fields"]["words"]["analyzer"] == "standard"
    segments = store.es.indices.get_mapping(index=index_name(store.prefix, "segments")).body
    vector = segments[index_name(store.prefix, "segments")]["mappings"]["properties"]["vector"]
    assert (vector["type"], vector["dims"], vector["similarity"]) == ("dense_vector", 8, "cosine")


def test_a_document_the_mapping_does_not_know_is_refused_and_named(store):
    with pytest.raises(StoreError, match=r"1 of 2 writes to conversations failed: bad: 400 strict_dynamic_mapping"):
        store._write(
            "conversations",
            [("good", {"conversation_id": "good"}), ("bad", BulkAction("index", {"no_such_field": 1}))],
        )
    assert store.es.get(index=alias(store.prefix, "conversations"), id="good").body["found"]


def test_two_workers_setting_up_the_same_indices_both_start(store, other_writer):
    store.ensure_indices()
    other_writer.ensure_indices()  # the templates are replaced, the existing indices kept
    assert store.upsert_conversations([conversation("a", "hello")]) == [UpsertOutcome.NEW]
    assert other_writer.get_conversation("a") is not None


def test_migration_reindexes_and_moves_the_alias_in_one_request(store):
    old = MAPPING_VERSION - 1
    for kind in KINDS:  # indices of the previous version behind the aliases, as an older vocmine left them
        store.es.indices.put_index_template(name=alias(store.prefix, kind), body=store._template(kind))
        store.es.indices.create(
            index=index_name(store.prefix, kind, old),
            body={"aliases": {alias(store.prefix, kind): {"is_write_index": True}}},
        )
    store.upsert_conversations([conversation("a", "my refund never arrived")])
    assert store.es.exists(index=index_name(store.prefix, "conversations", old), id="a").body

    moved = store.migrate(log=lambda _: None)
    assert moved["conversations"] == (
        f"{index_name(store.prefix, 'conversations', old)} → {index_name(store.prefix, 'conversations')}"
    )
    for kind in KINDS:
        assert list(store.es.indices.get_alias(name=alias(store.prefix, kind)).body) == [index_name(store.prefix, kind)]
    assert store.get_conversation("a") is not None
    assert [h.conversation.id for h in store.search(SearchQuery(text="refunds")).hits] == ["a"]
    again = store.migrate(log=lambda _: None)
    assert again["conversations"].endswith("(already current)")


def test_a_write_another_writer_came_before_is_read_merged_and_written_again(store, other_writer, monkeypatch):
    store.upsert_conversations([conversation("t1", "my parcel is late")])

    def reply_meanwhile() -> None:
        stored = other_writer.get_conversation("t1")
        assert stored is not None
        other_writer.upsert_conversations(
            [stored.model_copy(update={"turns": [*stored.turns, Turn(role="customer", text="any news?")]})]
        )

    monkeypatch.setattr(store, "_mget", _once_after(store._mget, reply_meanwhile))
    merges: list[list[str]] = []

    def merge(stored, incoming):
        merges.append([t.text for t in stored.turns])
        known = {t.text for t in stored.turns}
        return stored.model_copy(update={"turns": [*stored.turns, *(t for t in incoming.turns if t.text not in known)]})

    reply = conversation("t1", "my parcel is late", "still nothing")
    assert store.upsert_conversations([reply], merge=merge) == [UpsertOutcome.UPDATED]
    assert len(merges) == 2 and "any news?" in merges[1]  # the server refused the first write (409)
    assert [t.text for t in store.get_conversation("t1").turns] == ["my parcel is late", "any news?", "still nothing"]


def test_two_reviewers_changing_one_review_at_once_cannot_overwrite_each_other(store, other_writer, monkeypatch):
    c = conversation("c1", "I want to speak to a manager")
    store.upsert_conversations([c])
    store.write_analyses([analysis(c, flags=("escalation",))], [None])
    store.update_review("c1", "ana", status="in_review", assignee="ana")

    def other_reviewer() -> None:
        other_writer.update_review("c1", "bo", assignee="bo")

    monkeypatch.setattr(store, "_get_state", _once_after(store._get_state, other_reviewer))
    with pytest.raises(ConflictError, match="changed by someone else"):
        store.update_review("c1", "ana", status="resolved")
    state = other_writer.get_review("c1")
    assert (state.status, state.assignee, state.revision) == ("in_review", "bo", 2)


def test_iterations_read_a_point_in_time_page_by_page_while_writes_go_on(store):
    many = [conversation(f"c{i:04}", f"text {i}") for i in range(1_100)]  # three pages of 500
    store.upsert_conversations(many)
    key = versions_key(VERSIONS)
    seen: list[str] = []
    batch = []
    for c in store.iter_unanalysed(key):
        seen.append(c.id)
        batch.append(c)
        if len(batch) == 100:  # each write changes documents the iteration has yet to reach
            store.write_analyses([analysis(x) for x in batch], [None] * len(batch))
            batch = []
    assert seen == [c.id for c in many]  # each once, in id order
    assert store.count_unanalysed(key) == 0
    assert [c.id for c in store.iter_conversations(ConversationFilter())] == seen


def _unit(*values: float) -> np.ndarray:
    row = np.zeros(8, dtype=np.float32)
    row[: len(values)] = values
    return row / np.linalg.norm(row)


def _semantic_store(store: ElasticStore) -> None:
    """Four conversations whose segment vectors lie at known cosines from the query (1, 0): ``near``
    (two segments, 1.0 and 0.6), ``mid`` (0.8, an e-mail), ``far`` (0) and ``opposite`` (-1)."""
    rows = {
        "near": [_unit(1, 0), _unit(0.6, 0.8)],
        "mid": [_unit(0.8, 0.6)],
        "far": [_unit(0, 1)],
        "opposite": [_unit(-1, 0)],
    }
    conversations = []
    for cid, vectors in rows.items():
        c = conversation(cid, *(f"{cid} segment {n}" for n in range(len(vectors))))
        conversations.append(c.model_copy(update={"channel": "email" if cid == "mid" else "chat"}))
    store.upsert_conversations(conversations)
    store.write_analyses([analysis(c) for c in conversations], [np.stack(rows[c.id]) for c in conversations])


def test_semantic_search_finds_the_nearest_segment_once_per_conversation_with_filters_and_offsets(store):
    _semantic_store(store)
    query = _unit(1, 0)
    ranked = store.semantic_search(query, limit=3)
    assert [(cid, text) for cid, _, text in ranked] == [
        ("near", "near segment 0"),  # its best segment, and the conversation once (collapsed)
        ("mid", "mid segment 0"),
        ("far", "far segment 0"),
    ]
    assert [cid for cid, _, _ in store.semantic_search(query, ConversationFilter(channels=["email"]))] == ["mid"]
    assert [cid for cid, _, _ in store.semantic_search(query, limit=2, offset=1)] == ["mid", "far"]


@pytest.mark.emulator_differs(
    "kNN scores over its int8-quantized vectors (the default index_options) are off by up to 0.3 of a cosine: "
    "the query's own vector scores 0.96, an orthogonal one 0.32, an opposite one 0.16 (cosines 1, 0, -1)"
)
def test_semantic_search_scores_are_the_cosines_of_the_best_segments(store):
    _semantic_store(store)
    ranked = store.semantic_search(_unit(1, 0), limit=4)
    assert [cid for cid, _, _ in ranked] == ["near", "mid", "far", "opposite"]
    # Elasticsearch scores (1 + cosine) / 2 on int8-quantized vectors: cosines to about 0.01.
    assert [score for _, score, _ in ranked] == pytest.approx([1.0, 0.8, 0.0, -1.0], abs=0.02)

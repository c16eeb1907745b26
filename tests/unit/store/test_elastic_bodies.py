"""Offline checks of the Elasticsearch request bodies vocmine sends, against Elasticsearch's own
request schema (../shared/elasticsearch): a malformed body fails here, in CI, before any cluster
sees it. The backend that sends them (store/elastic.py) and the live contract run are issue 5."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.unit.store.es_openapi import SPEC, problems
from vocmine.store.elastic.aggs import theme_aggregation_body, totals_body
from vocmine.store.elastic.queries import filter_queries, hybrid_body, knn_body, search_body
from vocmine.store.elastic.schema import KINDS, alias, index_name, index_template, move_alias_actions
from vocmine.store.query import ConversationFilter, SearchQuery

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"Elasticsearch's request schema is not at {SPEC}")


@pytest.mark.parametrize("kind", KINDS)
def test_index_templates_fit_the_request_schema(kind):
    body = index_template("vocmine", kind, dimensions=384, shards=2, replicas=0)
    assert problems("indices.put_index_template", body) == []
    assert body["index_patterns"] == [f"vocmine-{kind}-v*"]
    assert body["template"]["mappings"]["dynamic"] == "strict"


def test_segment_vectors_are_cosine_dense_vectors_and_texts_english():
    mappings = index_template("vocmine", "segments", dimensions=768)["template"]["mappings"]["properties"]
    assert mappings["vector"] == {"type": "dense_vector", "dims": 768, "index": True, "similarity": "cosine"}
    assert mappings["text"]["analyzer"] == "english"
    conversations = index_template("vocmine", "conversations")["template"]["mappings"]["properties"]
    assert conversations["subject"]["fields"]["raw"]["type"] == "keyword"
    # Prefixes are matched on the words as written: a standard-analysed sub-field of each searched text.
    for properties, field in ((conversations, "customer_text"), (conversations, "subject"), (mappings, "text")):
        assert properties[field]["fields"]["words"] == {"type": "text", "analyzer": "standard"}
    # Every filter and breakdown field is a keyword or a number in both indices, so they aggregate.
    for field in ("channel", "brand", "agent_id", "team_id", "stage", "signals"):
        assert mappings[field]["type"] == conversations[field]["type"] == "keyword"


def test_alias_move_fits_and_is_atomic():
    body = move_alias_actions("vocmine", "segments", 1, 2)
    assert problems("POST /_aliases", body) == []
    assert [list(a) for a in body["actions"]] == [["remove"], ["add"]]
    assert body["actions"][1]["add"] == {
        "index": index_name("vocmine", "segments", 2),
        "alias": alias("vocmine", "segments"),
        "is_write_index": True,
    }


@pytest.mark.parametrize(
    ("field", "key", "broken"),
    [("vector", "type", "dense_vectorr"), ("vector", "similarity", "cosinus"), ("theme_id", "type", "kw")],
)
def test_a_malformed_mapping_is_caught(field, key, broken):
    body = index_template("vocmine", "segments")
    body["template"]["mappings"]["properties"][field][key] = broken
    assert any(field in problem for problem in problems("indices.put_index_template", body))


def test_a_malformed_alias_action_is_caught():
    body = move_alias_actions("vocmine", "segments", None, 1)
    body["actions"][0]["add"]["is_write_index"] = "yes"
    assert problems("POST /_aliases", body)


FILTER = ConversationFilter(
    channels=["chat", "email"],
    sentiments=["negative"],
    themes=["t1"],
    signals=["escalation"],
    since=datetime(2026, 1, 1, tzinfo=UTC),
    until=datetime(2026, 7, 1, tzinfo=UTC),
    min_severity=3,
)


def _bodies() -> dict[str, dict]:
    return {
        "search": search_body(SearchQuery(text='refund -"gift card" OR charge*', filter=FILTER, limit=50)),
        "search page 2": search_body(
            SearchQuery(text="refund", filter=FILTER), pit_id="pit-1", search_after=[3.2, "c9"]
        ),
        "browse": search_body(SearchQuery(filter=FILTER)),
        "knn": knn_body([0.1] * 384, FILTER, k=10),
        "hybrid": hybrid_body("router keeps dropping", [0.1] * 384, FILTER),
        "trends": theme_aggregation_body(FILTER, "week", "channel"),
        "totals": theme_aggregation_body(ConversationFilter()),
        "top-level trends": theme_aggregation_body(FILTER, "week", "channel", {"t1": "g1", "t2": "g1", "t3": "g2"}),
        "trends in a time zone": theme_aggregation_body(FILTER, "day", tz="Europe/Berlin"),
        "totals in a time zone": totals_body(FILTER, "month", "channel", tz="America/New_York"),
    }


def test_text_is_searched_stemmed_and_as_written():
    query = _bodies()["search"]["query"]["bool"]["must"][0]["simple_query_string"]
    assert {"customer_text", "customer_text.words"} <= set(query["fields"])


def test_buckets_in_a_time_zone_ask_elasticsearch_for_it():
    body = _bodies()["trends in a time zone"]
    assert body["aggs"]["result"]["date_histogram"]["time_zone"] == "Europe/Berlin"
    assert "time_zone" not in _bodies()["trends"]["aggs"]["result"]["date_histogram"]  # UTC: as before


@pytest.mark.parametrize("name", list(_bodies()))
def test_query_bodies_fit_the_request_schema(name):
    assert problems("search", _bodies()[name]) == []


def test_user_text_only_reaches_simple_query_string():
    for body in _bodies().values():
        text = json.dumps(body)
        assert '"query_string"' not in text
    search = _bodies()["search"]["query"]["bool"]["must"][0]["simple_query_string"]
    assert search["query"] == '((refund -"gift card") | charge*)' and search["default_operator"] == "and"


def test_filters_become_non_scoring_clauses_on_both_indices():
    conversation = {json.dumps(c.to_dict(), sort_keys=True) for c in filter_queries(FILTER)}
    segment = {json.dumps(c.to_dict(), sort_keys=True) for c in filter_queries(FILTER, segments=True)}
    assert '{"terms": {"themes": ["t1"]}}' in conversation and '{"terms": {"theme_id": ["t1"]}}' in segment
    assert '{"range": {"max_severity": {"gte": 3}}}' in conversation
    assert {"range": {"started_at": {"gte": "2026-01-01T00:00:00+00:00", "lt": "2026-07-01T00:00:00+00:00"}}} in [
        c.to_dict() for c in filter_queries(FILTER)
    ]


def test_a_malformed_search_body_is_caught():
    body = _bodies()["search"]
    body["size"] = "twenty"
    assert any(p.startswith("size") for p in problems("search", body))
    knn = _bodies()["knn"]
    knn["knn"]["k"] = "ten"
    assert problems("search", knn)


def test_unknown_query_and_aggregation_names_are_refused_when_built():
    from elasticsearch.dsl import A, Q
    from elasticsearch.dsl.exceptions import UnknownDslObject

    with pytest.raises(UnknownDslObject):
        Q("simple_query_strng", query="x")
    with pytest.raises(UnknownDslObject):
        A("date_histgram", field="started_at")


def test_documents_fit_the_strict_mappings_and_bulk_operations_the_schema():
    from vocmine.store.elastic.docs import bulk_operations, conversation_document, segment_documents
    from vocmine.testing.factories import analysis, conversation

    c = conversation("c1", "my bill is wrong", "thanks, sorted")
    a = analysis(c, flags=("escalation",))
    a.segments[0].theme_id = "t3"
    doc = conversation_document(c, a, versions_key="v")
    mapping = index_template("vocmine", "conversations")["template"]["mappings"]["properties"]
    assert set(doc) <= set(mapping), set(doc) - set(mapping)
    assert doc["themes"] == ["t3"] and doc["signals"] == ["escalation"] and doc["max_severity"] == 5
    assert doc["customer_text"] == "my bill is wrong\nthanks, sorted"
    segments = segment_documents(c, a, [[0.5] * 8, [0.25] * 8])
    segment_mapping = index_template("vocmine", "segments", dimensions=8)["template"]["mappings"]["properties"]
    for segment in segments:
        assert set(segment) <= set(segment_mapping), set(segment) - set(segment_mapping)
        assert len(segment["vector"]) == segment_mapping["vector"]["dims"]
    assert [s["theme_id"] for s in segments] == ["t3", None]
    operations = bulk_operations("vocmine-segments", [(s["segment_id"], s) for s in segments])
    assert problems("bulk", operations) == []
    assert operations[0] == {"index": {"_index": "vocmine-segments", "_id": "c1:0:0"}}
    with pytest.raises(ValueError, match="2 segments but 1 vectors"):
        segment_documents(c, a, [[0.5] * 8])

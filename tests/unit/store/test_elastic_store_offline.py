"""Every request the Elasticsearch store sends, produced by calling every method of the Store
protocol against a client stand-in that checks each body against Elasticsearch's request schema
(tests/unit/store/es_fake.py). A malformed body fails here, in CI. What a real cluster answers is the
contract suite's job (vocmine/testing/contract, run by tests/contract, with VOCMINE_TEST_ES_URL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.store.es_fake import BodyError, FakeElasticsearch
from tests.unit.store.es_openapi import SPEC
from vocmine.errors import ConflictError, NotFoundError, StoreError
from vocmine.schema import AlertRule, ApiKey, LabelCorrection, Theme, UploadJob
from vocmine.store.elastic.store import ElasticOptions, ElasticStore
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, ReviewQuery, SearchQuery, UpsertOutcome, versions_key
from vocmine.testing.factories import VERSIONS, analysis, conversation, vectors

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"Elasticsearch's request schema is not at {SPEC}")

FILTER = ConversationFilter(
    channels=["chat"],
    sentiments=["negative"],
    stages=["support"],
    themes=["t1"],
    signals=["escalation"],
    since=datetime(2026, 1, 1, tzinfo=UTC),
    min_severity=2,
)


@pytest.fixture
def fake():
    return FakeElasticsearch()


@pytest.fixture
def es_store(fake):
    return ElasticStore("http://localhost:9200", ElasticOptions(prefix="vmtest", dimensions=8), client=fake)


def test_the_store_implements_the_whole_protocol(es_store):
    assert isinstance(es_store, Store)
    missing = [name for name in Store.__dict__ if not name.startswith("_") and not hasattr(es_store, name)]
    assert missing == []


def test_writes_and_reads_by_id_send_valid_bodies(es_store, fake):
    c1, c2 = conversation("c1", "my bill is wrong", "still wrong"), conversation("c2", "great app")
    new, unchanged = UpsertOutcome.NEW, UpsertOutcome.UNCHANGED
    assert es_store.upsert_conversations([c1, c2, c1]) == [new, new, unchanged]
    assert es_store.upsert_conversations([c1]) == [UpsertOutcome.UNCHANGED]
    changed = c2.model_copy(update={"subject": "app"})
    assert es_store.upsert_conversations([changed]) == [UpsertOutcome.UPDATED]
    assert es_store.get_conversation("c2") == changed and es_store.get_conversation("nope") is None

    a1 = analysis(c1, flags=("escalation",))
    es_store.write_analyses([a1, analysis(changed, label="positive")], [vectors(2), None])
    assert es_store.get_analyses(["c1"]).keys() == {"c1"}  # segments come from a search: none here
    stored = fake.docs[("vmtest-conversations", "c1")]["_source"]
    assert stored["versions_key"] == versions_key(VERSIONS) and stored["max_severity"] == 5
    assert stored["segment_ids"] == ["c1:0:0", "c1:1:0"] and not stored["analysis_stale"]
    assert len(fake.docs[("vmtest-segments", "c1:0:0")]["_source"]["vector"]) == 8

    # A new version of the conversation keeps its analysis, now stale; a shorter re-analysis
    # deletes the segments it no longer has.
    edited = c1.model_copy(update={"subject": "bill"})
    es_store.upsert_conversations([edited])
    assert fake.docs[("vmtest-conversations", "c1")]["_source"]["analysis_stale"] is True
    shorter = analysis(conversation("c1", "my bill is wrong"))
    es_store.write_analyses([shorter], [vectors(1)])
    assert ("vmtest-segments", "c1:1:0") not in fake.docs

    with pytest.raises(StoreError, match="not in this store"):
        es_store.write_analyses([analysis(conversation("ghost", "x"))], [None])
    with pytest.raises(StoreError, match="2 segments but 1 vectors"):
        es_store.write_analyses([a1], [vectors(1)])


def test_searches_and_aggregations_send_valid_bodies(es_store, fake):
    es_store.search(SearchQuery(text='refund -"gift card" OR charge*', filter=FILTER, limit=5))
    es_store.search(SearchQuery(filter=FILTER))
    es_store.facet_counts(SearchQuery(text="refund", filter=FILTER))
    es_store.facet_counts(SearchQuery())
    es_store.semantic_search([0.1] * 8, FILTER, limit=5, offset=5)
    es_store.stats(FILTER)
    es_store.latest_start(FILTER)
    es_store.analysis_stats(FILTER)
    es_store.count_unanalysed("k", FILTER)
    for interval in (None, "week"):
        for breakdown in (None, "channel", "stage", "team"):
            es_store.theme_aggregates(FILTER, interval, breakdown)
            es_store.theme_aggregates(FILTER, interval, breakdown, {"t1": "g1", "t2": "g1", "t3": "g2"})
            es_store.conversation_totals(FILTER, interval, breakdown)
        es_store.agent_aggregates("agent", FILTER, interval)
        es_store.score_totals(FILTER, interval, tz="Europe/Madrid")
    es_store.review_queue(ReviewQuery(filter=FILTER, statuses=["new", "in_review"], assignee="ana", min_severity=3))
    for iterator in (
        es_store.iter_conversations(FILTER),
        es_store.iter_unanalysed("k", FILTER),
        es_store.iter_segment_vectors(FILTER),
        es_store.iter_segment_texts(FILTER),
        es_store.iter_survey_themes(FILTER),
    ):
        assert list(iterator) == []
    assert es_store.conversation_ids_for_turn_keys(["m1", "m2"]) == {}
    endpoints = {endpoint for endpoint, _ in fake.sent}
    assert {"search", "count", "indices.put_index_template", "PUT /{index}"} <= endpoints
    assert all('"query_string"' not in str(body) for _, body in fake.sent)


def test_cursors_carry_the_sort_values(es_store, fake):
    page = es_store.search(SearchQuery(text="refund", cursor="WzMuNSwgImMxIl0"))  # [3.5, "c1"]
    assert page.hits == [] and fake.sent[-1][1]["search_after"] == [3.5, "c1"]


def test_themes_curation_keys_reviews_alerts_and_jobs_send_valid_bodies(es_store, fake):
    c = conversation("c1", "my bill is wrong")
    es_store.upsert_conversations([c])
    es_store.write_analyses([analysis(c, flags=("escalation",))], [vectors(1)])
    assert es_store.assign_themes([("c1:0:0", "t1"), ("missing:0:0", "t2")]) == 1
    assert fake.docs[("vmtest-conversations", "c1")]["_source"]["themes"] == ["t1"]
    es_store.replace_themes([Theme(id=i, label=i, size=5) for i in ("t1", "t2", "t3")], "v1")
    assert es_store.themes_version() == "v1"
    assert es_store.rename_theme("t1", "Billing", "ana").name == "Billing"
    assert es_store.merge_themes(["t2"], "t1", "ana").size == 10
    assert ("POST /{index}/_update_by_query") in {e for e, _ in fake.sent}
    with pytest.raises(NotFoundError):
        es_store.rename_theme("t9", "x", "ana")

    es_store.add_api_key(ApiKey(id="k1", name="dash", scopes=["read"], created_at=datetime.now(UTC)), "hash")
    key, secret_hash = es_store.find_api_key("k1")
    assert key.name == "dash" and secret_hash == "hash" and es_store.find_api_key("k2") is None
    assert es_store.revoke_api_key("k1").revoked_at is not None

    state = es_store.update_review("c1", "ana", status="in_review", assignee="ana")
    assert (state.status, state.assignee, state.revision) == ("in_review", "ana", 1)
    with pytest.raises(ConflictError, match="changed since revision 0"):
        es_store.update_review("c1", "bo", status="resolved", expected_revision=0)
    assert es_store.update_review("c1", "bo", status="new").status == "new"  # back to the queue
    with pytest.raises(ConflictError, match="a new review cannot become resolved"):
        es_store.update_review("c1", "bo", status="resolved")
    es_store.add_review_note("c1", "ana", "called the customer")
    es_store.add_label_correction("c1", "ana", LabelCorrection(field="sentiment", value="neutral"))
    review = es_store.get_review("c1")
    assert [n.text for n in review.notes] == ["called the customer"] and review.corrections[0].author == "ana"
    assert fake.docs[("vmtest-conversations", "c1")]["_source"]["review_status"] == "new"
    assert es_store.enqueue_review("c1", "alerts", "rule r1") is False
    with pytest.raises(NotFoundError):
        es_store.get_review("nope")

    es_store.save_alert_rule(AlertRule(id="r1", name="vip"))
    es_store.record_delivery("r1", "c1", "delivered", 1, None)
    es_store.delete_alert_rule("r1")
    with pytest.raises(NotFoundError):
        es_store.delete_alert_rule("r1")
    es_store.review_events("c1")
    es_store.iter_label_feedback()
    es_store.list_deliveries("r1")

    job = UploadJob(id="j1", files=[], state="done", report={"records": {"read": 1}})
    es_store.save_upload_job(job)
    assert es_store.get_upload_job("j1") == job
    assert es_store.get_upload_job("j2") is None


def test_migration_moves_the_alias_in_one_request(es_store, fake):
    moved = es_store.migrate(log=lambda _: None)
    assert set(moved) == {"conversations", "segments", "state"}
    assert [e for e, _ in fake.sent].count("POST /_aliases") == 3


def test_a_broken_body_fails_the_check(es_store, monkeypatch):
    import vocmine.store.elastic.store as elastic

    def broken(query, **kwargs):
        return {"query": {"simple_query_string": {"query": query.text, "default_operator": "maybe"}}, "size": "ten"}

    monkeypatch.setattr(elastic, "search_body", broken)
    with pytest.raises(BodyError, match="size"):
        es_store.search(SearchQuery(text="refund"))


def _api_error(status: int, error_type: str):
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    from elasticsearch import ApiError, BadRequestError

    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "localhost", 9200))
    body = {"error": {"root_cause": [{"type": error_type, "reason": "because"}]}, "status": status}
    return (BadRequestError if status == 400 else ApiError)(error_type, meta, body)


def test_two_workers_creating_the_indices_at_once_both_start(es_store, fake, monkeypatch):
    def already_there(**kwargs):
        raise _api_error(400, "resource_already_exists_exception")

    monkeypatch.setattr(fake.indices, "create", already_there)
    es_store.ensure_indices()  # no error: the other worker made them


def test_a_point_in_time_already_gone_when_closed_ends_the_iteration_quietly(es_store, fake, monkeypatch):
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    from elasticsearch import NotFoundError as ClientNotFound

    def gone(**kwargs):
        meta = ApiResponseMeta(404, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "localhost", 9200))
        raise ClientNotFound("gone", meta, {"num_freed": 0, "succeeded": True})

    monkeypatch.setattr(fake, "close_point_in_time", gone)
    assert es_store.list_themes() == []  # read through a point in time: expired or freed, all pages read


def test_cluster_errors_say_what_happened(es_store, fake, monkeypatch):
    def refused(**kwargs):
        raise _api_error(403, "security_exception")

    monkeypatch.setattr(fake.indices, "put_index_template", refused)
    with pytest.raises(StoreError, match="security_exception") as caught:
        es_store.stats()
    assert "manage_index_templates" in caught.value.hint


def test_a_write_another_writer_came_before_is_read_merged_and_written_again(es_store, fake, monkeypatch):
    from vocmine.schema import Conversation, Turn

    es_store.upsert_conversations([conversation("t1", "my parcel is late")])
    real_mget = fake.mget
    raced = []

    def mget_then_another_writer(**kwargs):
        found = real_mget(**kwargs)
        if not raced:  # between this writer's read and its write, another stores a reply
            raced.append(True)
            stored = Conversation.model_validate(fake.docs[("vmtest-conversations", "t1")]["_source"]["doc"])
            other = stored.model_copy(update={"turns": [*stored.turns, Turn(role="customer", text="any news?")]})
            es_store.upsert_conversations([other])
        return found

    monkeypatch.setattr(fake, "mget", mget_then_another_writer)
    merges = []

    def merge(stored, incoming):
        merges.append([t.text for t in stored.turns])
        known = {t.text for t in stored.turns}
        return stored.model_copy(update={"turns": [*stored.turns, *(t for t in incoming.turns if t.text not in known)]})

    reply = conversation("t1", "my parcel is late", "still nothing")
    assert es_store.upsert_conversations([reply], merge=merge) == [UpsertOutcome.UPDATED]
    assert len(merges) == 2 and "any news?" in merges[1]  # the second round read the other writer's reply
    assert [t.text for t in es_store.get_conversation("t1").turns] == [
        "my parcel is late",
        "any news?",
        "still nothing",
    ]


def test_an_alert_is_first_only_for_the_writer_that_creates_its_marker(es_store, fake, monkeypatch):
    es_store.upsert_conversations([conversation("c9", "cancel my plan")])
    es_store.write_analyses([analysis(conversation("c9", "cancel my plan"))], [vectors(1)])
    real_index = fake.index

    def index(**kwargs):
        # As Elasticsearch: op_type=create of an id that exists is a 409.
        if kwargs.get("op_type") == "create" and (kwargs["index"], kwargs["id"]) in fake.docs:
            raise _api_error(409, "version_conflict_engine_exception")
        return real_index(**kwargs)

    monkeypatch.setattr(fake, "index", index)
    assert es_store.alert_review("c9", "alert:r1", "matched") is True
    assert es_store.alert_review("c9", "alert:r1", "matched again") is False
    assert es_store.alert_review("c9", "alert:r2", "matched") is True

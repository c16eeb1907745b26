"""``vocmine reindex``: a store copied into another keeps everything the product reads."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.unit.store.es_openapi import SPEC
from vocmine.cli.main import app
from vocmine.schema import AlertRule, ApiKey, LabelCorrection
from vocmine.store.query import ReviewQuery
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import catalog, seed_analysed

ROWS = [
    ("c1", 0, [("bill wrong", "t1"), ("still wrong", "t2")], "negative", ("escalation",), "chat", 2),
    ("c2", 1, [("love it", "t2")], "positive", (), "email", 10),
    ("c3", 2, [("cancel now", "t1")], "negative", ("churn_risk",), "call", None),
]


@pytest.fixture
def source(tmp_path):
    store = SQLiteStore(str(tmp_path / "source.sqlite"))
    seed_analysed(store, ROWS)
    store.replace_themes(catalog("t1", "t2"), "fit-1")
    store.rename_theme("t1", "Billing", "ana")
    store.add_api_key(ApiKey(id="k1", name="dash", scopes=["read"], created_at=datetime.now(UTC)), "hash-1")
    store.save_alert_rule(AlertRule(id="r1", name="vip"))
    store.record_delivery("r1", "c1", "delivered", 1, None)
    store.update_review("c1", "ana", status="in_review", assignee="ana")
    store.add_review_note("c1", "ana", "called back")
    store.add_label_correction("c1", "ana", LabelCorrection(field="stage", value="purchase"))
    store.update_review("c1", "ana", status="resolved", loop_closed=True)
    yield store
    store.close()


def test_a_copy_keeps_everything_the_product_reads(source, tmp_path):
    from vocmine.services.reindex import reindex

    target = SQLiteStore(str(tmp_path / "target.sqlite"))
    report = reindex(source, target)
    assert (report.conversations, report.analyses, report.themes, report.reviews) == (3, 3, 2, 1)
    assert target.get_conversations(["c1", "c2", "c3"]) == source.get_conversations(["c1", "c2", "c3"])
    assert target.get_analyses(["c1", "c2", "c3"]) == source.get_analyses(["c1", "c2", "c3"])
    ids = ["c1:0:0", "c1:1:0", "c2:0:0"]
    copied, original = target.get_segment_vectors(ids), source.get_segment_vectors(ids)
    assert all(np.array_equal(copied[i], original[i]) for i in ids)
    assert target.list_themes() == source.list_themes() and target.themes_version() == "fit-1"
    assert target.theme_aggregates() == source.theme_aggregates()
    assert target.find_api_key("k1") == source.find_api_key("k1")
    assert target.list_alert_rules() == source.list_alert_rules() and len(target.list_deliveries()) == 1
    review = target.get_review("c1")
    expected = source.get_review("c1")
    assert (review.status, review.assignee, review.loop_closed) == ("resolved", "ana", True)
    assert [n.text for n in review.notes] == [n.text for n in expected.notes]
    assert [c.value for c in review.corrections] == ["purchase"]
    assert [i.conversation_id for i in target.review_queue(ReviewQuery()).items] == ["c1", "c3"]

    again = reindex(source, target)  # a second run changes nothing
    assert again.reviews == 1 and target.get_review("c1").revision == review.revision
    assert target.stats().conversations == 3


@pytest.mark.skipif(not SPEC.exists(), reason=f"Elasticsearch's request schema is not at {SPEC}")
def test_a_copy_into_elasticsearch_sends_valid_bodies(source):
    from tests.unit.store.es_fake import FakeElasticsearch
    from vocmine.services.reindex import reindex
    from vocmine.store.elastic.store import ElasticOptions, ElasticStore

    fake = FakeElasticsearch()
    target = ElasticStore("http://localhost:9200", ElasticOptions(dimensions=8), client=fake)
    report = reindex(source, target)
    assert report.conversations == 3 and report.analyses == 3 and report.reviews == 1
    stored = fake.docs[("vocmine-conversations", "c1")]["_source"]
    assert stored["themes"] == ["t1", "t2"] and stored["review_status"] == "resolved"
    assert len(fake.docs[("vocmine-segments", "c1:0:0")]["_source"]["vector"]) == 8


def test_the_cli_copies_and_reports(source, tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, ["reindex", "--from", f"sqlite:///{source.path}", "--to", f"sqlite:///{tmp_path / 'copy.sqlite'}"]
    )
    assert result.exit_code == 0, result.output
    assert "copied 3 conversations (3 analysed), 2 themes, 1 API keys" in result.output
    same = CliRunner().invoke(app, ["reindex", "--from", "sqlite:///x.sqlite", "--to", "sqlite:///x.sqlite"])
    assert same.exit_code != 0 and "same store" in same.output
    missing = tmp_path / "missing.sqlite"
    absent = CliRunner().invoke(app, ["reindex", "--from", f"sqlite:///{missing}", "--to", f"sqlite:///{tmp_path}/b"])
    assert absent.exit_code != 0 and "no store at" in absent.output and not missing.exists()

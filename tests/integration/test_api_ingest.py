"""Ingestion over HTTP with the real models loaded at start-up: a JSON batch with a result per
record, and a file upload processed as a background job."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import finished_job, upload
from tests.conftest import DATA
from vocmine.schema import AlertRule
from vocmine.services.keys import create_key
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore
from vocmine_api import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("api")
    store = SQLiteStore(str(folder / "store.sqlite"))
    _, token = create_key(store, "ingest", ["ingest", "read"])
    settings = Settings(store=f"sqlite:///{folder / 'store.sqlite'}", report_dir=str(folder / "reports"))
    with TestClient(create_app(settings, store=store)) as client:
        yield client, {"Authorization": f"Bearer {token}"}, store


def test_models_are_loaded_at_start_up(served):
    client, _, _ = served
    assert client.get("/v1/ready").json()["checks"]["models"] == "ok"


def test_batch_gives_a_result_per_record_and_analyses_what_it_stored(served):
    client, headers, store = served
    good = {
        "id": "chat-api-1",
        "channel": "chat",
        "source": "api",
        "turns": [
            {
                "role": "customer",
                "text": "I was charged twice, call me on +44 7700 900123. I want to speak to a manager NOW.",
            },
            {"role": "agent", "text": "Sorry, I've refunded the second charge."},
        ],
    }
    store.save_alert_rule(AlertRule(id="rule-esc", name="escalations", signals=["escalation"]))
    batch = [good, {"id": "broken", "channel": "fax", "turns": []}, good]
    response = client.post("/v1/ingest/conversations", json={"conversations": batch}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [(r["index"], r["outcome"]) for r in body["results"]] == [(0, "stored"), (1, "rejected"), (2, "duplicate")]
    assert "channel" in body["results"][1]["error"]
    assert body["analysed"] == 1 and body["results"][0]["analysed"]
    stored = store.get_conversation("chat-api-1")
    assert stored is not None and "7700 900123" not in stored.turns[0].text  # redacted before storing
    analysis = store.get_analyses(["chat-api-1"])["chat-api-1"]
    assert "escalation" in {f.signal for f in analysis.flags}
    # The alert rule ran on what was just analysed and put it in the review queue.
    assert [e["action"] for e in store.review_events("chat-api-1")] == ["alert"]
    again = client.post("/v1/ingest/conversations", json={"conversations": [good]}, headers=headers).json()
    assert again["duplicate"] == 1 and again["analysed"] == 0


def test_upload_runs_as_a_job_with_a_report(served):
    client, headers, store = served
    started = upload(client, Path(DATA) / "chat" / "native.jsonl", headers)
    assert started.status_code == 202
    job = finished_job(client, started.json()["id"], headers)
    assert job["state"] == "done", job
    records = job["report"]["records"]
    assert records["read"] == records["stored"] + records["duplicate"] + records["rejected"]
    assert records["stored"] > 0 and job["analysed"] > 0
    assert store.analysis_stats().analysed == store.stats().conversations


def test_an_upload_job_analyses_its_own_conversations_only(tmp_path):
    from vocmine.testing.factories import conversation

    store = SQLiteStore(str(tmp_path / "store.sqlite"))
    _, token = create_key(store, "ingest", ["ingest", "read"])
    # Waiting in the store, unanalysed, before the upload: someone else's work (a CLI ingest that
    # will analyse later, or one whose analysis is deliberately deferred).
    store.upsert_conversations([conversation("waiting-1", "My broadband drops every evening.")])
    settings = Settings(store=f"sqlite:///{tmp_path / 'store.sqlite'}", report_dir=str(tmp_path / "reports"))
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings, store=store)) as client:
        job = finished_job(client, upload(client, Path(DATA) / "chat" / "native.jsonl", headers).json()["id"], headers)
    assert job["state"] == "done", job
    uploaded = job["report"]["conversations"]["new"] + job["report"]["conversations"]["updated"]
    assert uploaded > 0 and job["analysed"] == uploaded
    assert "waiting-1" not in store.get_analyses(["waiting-1"])
    assert store.analysis_stats().analysed == uploaded

"""The API as a dashboard and a reviewer use it: each route's answer, its errors and limits."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import auth, finished_job, upload
from tests.conftest import DATA
from vocmine_api import create_app


def test_health_and_readiness_are_open(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    ready = client.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok", "models": "ok"}


def test_readiness_names_what_is_down(api_store, settings):
    broken = settings.model_copy(update={"signal_rules": "/nonexistent/rules.toml"})
    with TestClient(create_app(broken, store=api_store)) as client:
        response = client.get("/v1/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["store"] == "ok" and "rules.toml" in response.json()["checks"]["models"]


def test_conversation_has_segments_themes_flags_and_versions(client, tokens):
    body = client.get("/v1/conversations/a", headers=auth(tokens["read"])).json()
    assert [t["text"] for t in body["conversation"]["turns"]] == ["my bill is wrong again", "the app keeps crashing"]
    segments = body["analysis"]["segments"]
    assert [(s["sentiment"], s["theme_id"]) for s in segments] == [("negative", "t1"), ("negative", "t2")]
    assert body["analysis"]["flags"][0]["evidence"][0]["text"]
    assert body["analysis"]["sentiment"]["trajectory"] == "improved"
    assert set(body["analysis"]["model_versions"]) >= {"encoder", "sentiment", "journey", "signals"}
    assert body["theme_names"] == {"t1": "label t1", "t2": "label t2"}


def test_errors_have_one_shape_and_say_what_to_change(client, tokens):
    missing = client.get("/v1/conversations/nope", headers=auth(tokens["read"]))
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "not_found" and "nope" in error["message"] and error["hint"]
    bad_filter = client.get("/v1/search?channel=fax", headers=auth(tokens["read"]))
    assert bad_filter.status_code == 400 and "chat" in bad_filter.json()["error"]["message"]
    bad_cursor = client.get("/v1/search?cursor=%%%", headers=auth(tokens["read"]))
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["hint"]
    too_big_page = client.get("/v1/search?limit=51", headers=auth(tokens["read"]))
    assert too_big_page.status_code == 400 and "50" in too_big_page.json()["error"]["message"]
    unknown = client.get("/v1/nothing-here", headers=auth(tokens["read"]))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_search_filters_highlights_and_pages(client, tokens):
    found = client.get("/v1/search", params={"q": "bill"}, headers=auth(tokens["read"])).json()
    assert {h["conversation"]["id"] for h in found["hits"]} == {"a", "b"}
    assert any("<mark>" in line for h in found["hits"] for line in h["highlights"])
    negative = client.get("/v1/search", params={"q": "bill", "sentiment": "negative"}, headers=auth(tokens["read"]))
    assert [h["conversation"]["id"] for h in negative.json()["hits"]] == ["a"]
    by_theme = client.get("/v1/search", params={"theme": "t2", "flag": "churn_risk"}, headers=auth(tokens["read"]))
    assert [h["conversation"]["id"] for h in by_theme.json()["hits"]] == ["c"]
    first = client.get("/v1/search", params={"limit": 2}, headers=auth(tokens["read"])).json()
    second = client.get("/v1/search", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(tokens["read"]))
    ids = [h["conversation"]["id"] for h in first["hits"] + second.json()["hits"]]
    assert sorted(ids) == ["a", "b", "c", "d"] and first["total"] == 4
    for query in ('"unclosed', "AND OR NOT", "*", "((", "-"):
        response = client.get("/v1/search", params={"q": query}, headers=auth(tokens["read"]))
        assert response.status_code in (200, 400), (query, response.text)


def test_themes_with_counts_and_admin_curation(client, tokens):
    themes = client.get("/v1/themes", headers=auth(tokens["read"])).json()
    counts = {t["theme"]["id"]: (t["conversations"], t["segments"]) for t in themes["themes"]}
    assert counts == {"t1": (2, 2), "t2": (2, 2), "t3": (0, 0)}
    assert themes["version"] == "themes-test"
    one = client.get("/v1/themes/t1", headers=auth(tokens["read"])).json()
    assert set(one["examples"]) == {"my bill is wrong again", "thanks, the bill is sorted"}
    # Each verbatim says where to read the rest: its conversation and segment.
    assert {v["text"] for v in one["verbatims"]} == set(one["examples"])
    assert all(v["segment_id"].startswith(v["conversation_id"] + ":") for v in one["verbatims"])
    renamed = client.post("/v1/themes/t1/rename", json={"name": "Billing"}, headers=auth(tokens["admin"]))
    assert renamed.status_code == 200 and renamed.json()["name"] == "Billing"
    merged = client.post("/v1/themes/merge", json={"sources": ["t3"], "into": "t1"}, headers=auth(tokens["admin"]))
    assert merged.status_code == 200
    into_itself = client.post("/v1/themes/merge", json={"sources": ["t1"], "into": "t1"}, headers=auth(tokens["admin"]))
    assert into_itself.status_code == 400 and "itself" in into_itself.json()["error"]["message"]


@pytest.mark.emulator_differs(
    "max aggregations on a date field skip dates sent as ISO 8601 strings, so the latest conversation is not "
    "found and the emerging and priority windows end today instead of on its day"
)
def test_trends_emerging_priorities_and_drivers(client, tokens):
    read = auth(tokens["read"])
    trends = client.get("/v1/themes/trends", params={"interval": "week", "theme_id": "t2"}, headers=read).json()
    assert [(p["bucket"], p["conversations"]) for p in trends["points"]] == [("2026-08-31", 1), ("2026-09-07", 1)]
    in_zone = client.get("/v1/themes/trends", params={"interval": "day", "tz": "Pacific/Kiritimati"}, headers=read)
    assert in_zone.status_code == 200 and in_zone.json()["tz"] == "Pacific/Kiritimati"
    unknown = client.get("/v1/themes/trends", params={"tz": "Mars/Olympus_Mons"}, headers=read)
    assert unknown.status_code == 400 and "Mars/Olympus_Mons" in unknown.json()["error"]["message"]
    assert "IANA" in unknown.json()["error"]["hint"]
    by_channel = client.get("/v1/themes/trends", params={"breakdown": "channel"}, headers=read).json()
    assert {p["group"] for p in by_channel["points"]} >= {"chat", "email"}
    emerging = client.get("/v1/themes/emerging", params={"recent_days": 3, "baseline_days": 7}, headers=read).json()
    assert emerging["window"]["end"] == "2026-09-11"
    assert all({"p_value", "q_value", "rate_ratio"} <= set(t) for t in emerging["themes"])
    priorities = client.get("/v1/signals/priorities", params={"recent_days": 10}, headers=read).json()
    assert priorities["formula"].startswith("100 × reach")
    assert {p["theme_id"] for p in priorities["priorities"]} == {"t1", "t2"}
    assert all(
        set(p["terms"]) == {"reach", "negativity", "growth", "severity", "nps_impact"} for p in priorities["priorities"]
    )
    drivers = client.get("/v1/drivers/nps", params={"min_present": 5}, headers=read).json()
    assert drivers["conversations"] == 3
    assert all(d["status"] == "not enough data" for d in drivers["drivers"])
    assert client.get("/v1/drivers/ces", headers=read).status_code == 400
    for route in ("/v1/themes/emerging", "/v1/signals/priorities"):  # found by the fuzzer: was a 500
        early = client.get(route, params={"end": "0001-01-01"}, headers=read)
        assert early.status_code == 400 and "years 1–9999" in early.json()["error"]["message"], early.text


def test_oversized_bodies_are_refused_before_they_are_read(client, tokens):
    big = {"sources": ["t" + "x" * 20_000], "into": "t1"}
    response = client.post("/v1/themes/merge", json=big, headers=auth(tokens["admin"]))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: the body is counted as it streams
        yield b'{"sources": ["t'
        for _ in range(30):
            yield b"x" * 1_000
        yield b'"], "into": "t1"}'

    headers = {**auth(tokens["admin"]), "Content-Type": "application/json"}
    streamed = client.post("/v1/themes/merge", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large", streamed.text


def test_cors_is_off_by_default_and_follows_settings(api_store, settings, client):
    origin = {"Origin": "https://dash.example.com", "Access-Control-Request-Method": "GET"}
    assert "access-control-allow-origin" not in client.options("/v1/health", headers=origin).headers
    allowed = settings.model_copy(update={"api_cors_origins": ["https://dash.example.com"]})
    with TestClient(create_app(allowed, store=api_store)) as cors_client:
        response = cors_client.options("/v1/health", headers=origin)
    assert response.headers["access-control-allow-origin"] == "https://dash.example.com"


def test_metrics_count_requests_by_route(client, tokens):
    client.get("/v1/conversations/a", headers=auth(tokens["read"]))
    text = client.get("/v1/metrics", headers=auth(tokens["read"])).text
    assert 'handler="/v1/conversations/{conversation_id}"' in text and 'status="200"' in text


def test_metrics_count_a_request_that_ends_in_an_unhandled_error(api_store, settings, tokens, monkeypatch):
    from fastapi.testclient import TestClient

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_store, "get_conversation", broken)
    with TestClient(create_app(settings, store=api_store), raise_server_exceptions=False) as crashing:
        assert crashing.get("/v1/conversations/a", headers=auth(tokens["read"])).status_code == 500
        text = crashing.get("/v1/metrics", headers=auth(tokens["read"])).text
    counted = [line for line in text.splitlines() if line.startswith("vocmine_http_requests_total{")]
    assert any('handler="/v1/conversations/{conversation_id}"' in line and 'status="500"' in line for line in counted)


def test_metrics_count_refusals_made_before_any_route(client, tokens):
    client.get("/v1/conversations/a")  # no key: refused by the key check, before the route runs
    client.get("/v1/no-such-route", headers=auth(tokens["read"]))
    text = client.get("/v1/metrics", headers=auth(tokens["read"])).text
    counted = [line for line in text.splitlines() if line.startswith("vocmine_http_requests_total{")]
    assert any('status="401"' in line for line in counted), counted
    assert any('status="404"' in line for line in counted), counted


def test_agents_view_is_framed_as_coaching(client, tokens, api_store):
    handled = api_store.get_conversations(["a", "b"]).values()
    api_store.upsert_conversations([c.model_copy(update={"agent_id": "ana"}) for c in handled])
    body = client.get("/v1/agents", params={"by": "agent"}, headers=auth(tokens["read"])).json()
    assert "not a ranking" in body["note"]
    (ana,) = body["points"]
    assert ana["key"] == "ana" and ana["conversations"] == 2 and ana["flag_rate"] == 0.5


def _segment_vector(store, segment_id):  # type: ignore[no-untyped-def]
    for ids, matrix in store.iter_segment_vectors():
        if segment_id in ids:
            return matrix[ids.index(segment_id)]
    raise AssertionError(segment_id)


@pytest.mark.emulator_differs(
    "kNN scores over its int8-quantized vectors are approximate: the query's own vector scores a cosine of 0.9955"
)
def test_semantic_and_hybrid_search_and_facets(client, tokens, api_store):
    read = auth(tokens["read"])
    off = client.get("/v1/search", params={"q": "crash", "mode": "semantic"}, headers=read)
    assert off.status_code == 503 and "VOCMINE_API_LOAD_MODELS" in off.json()["error"]["hint"]
    # A stand-in encoder: the query "means" exactly what segment c:0:0 says.
    target = _segment_vector(api_store, "c:0:0")
    client.app.state.embed = lambda texts: [target for _ in texts]
    semantic = client.get("/v1/search", params={"q": "login trouble", "mode": "semantic", "limit": 2}, headers=read)
    body = semantic.json()
    assert body["hits"][0]["conversation"]["id"] == "c" and body["hits"][0]["score"] == 1.0
    assert body["hits"][0]["highlights"] == ["the app crashed on login"]
    assert len(body["hits"]) == 2 and body["next_cursor"]
    rest = client.get(
        "/v1/search", params={"q": "x", "mode": "semantic", "limit": 2, "cursor": body["next_cursor"]}, headers=read
    ).json()
    assert {h["conversation"]["id"] for h in body["hits"] + rest["hits"]} == {"a", "b", "c", "d"}
    # Honest totals: a lower bound while there are more pages, exact on the last one.
    assert (body["total"], body["total_relation"]) == (3, "gte")
    assert (rest["total"], rest["total_relation"], rest["next_cursor"]) == (4, "eq", None)
    # A crafted cursor is the caller's mistake (400 naming it), never a 500.
    for crafted in ('["abc"]', "[null]", "[[1]]", "[-5]", "[true]"):
        cursor = base64.urlsafe_b64encode(crafted.encode()).decode().rstrip("=")
        for mode in ("semantic", "hybrid"):
            bad = client.get("/v1/search", params={"q": "x", "mode": mode, "cursor": cursor}, headers=read)
            assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"], (crafted, bad.text)
    only_email = client.get("/v1/search", params={"q": "x", "mode": "semantic", "channel": "email"}, headers=read)
    assert [h["conversation"]["id"] for h in only_email.json()["hits"]] == ["b"]
    # Hybrid: "bill" matches a and b by text; c is first by meaning; fusion keeps all three.
    hybrid = client.get("/v1/search", params={"q": "bill", "mode": "hybrid"}, headers=read).json()
    assert {"a", "b", "c"} <= {h["conversation"]["id"] for h in hybrid["hits"]}
    faceted = client.get("/v1/search", params={"q": "app", "facets": "true"}, headers=read).json()
    assert faceted["facets"]["channel"] == {"chat": 2}
    assert faceted["facets"]["signal"] == {"escalation": 1, "churn_risk": 1}
    assert client.get("/v1/search", params={"mode": "hybrid"}, headers=read).status_code == 400


def test_any_worker_answers_for_an_upload_job(api_store, settings, tokens):
    """Two API processes over one store (``vocmine serve --workers 2``): the job one of them runs is
    visible, with its progress and report, from the other."""
    headers = auth(tokens["ingest"])
    path = DATA / "chat" / "native.jsonl"
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        started = upload(first, path, headers)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        job = finished_job(second, job_id, headers)
        assert job["state"] == "done", job
        assert job["report"]["records"]["stored"] > 0 and job["files"] == [path.name]
        assert job == first.get(f"/v1/jobs/{job_id}", headers=headers).json()
        missing = second.get("/v1/jobs/nope", headers=headers)
        assert missing.status_code == 404 and "POST /v1/ingest/files" in missing.json()["error"]["hint"]


def test_stats_count_what_analysis_found_and_what_it_could_not_read(client, tokens):
    body = client.get("/v1/stats", headers=auth(tokens["read"])).json()
    assert body["analysed"] == 4 and body["unsupported_language"] == 0
    assert body["by_signal"] == {"churn_risk": 1, "escalation": 1}
    chats = client.get("/v1/stats", params={"channel": "chat"}, headers=auth(tokens["read"])).json()
    assert chats["conversations"] == 2
    assert client.get("/v1/stats").status_code == 401


def test_an_upload_with_a_very_long_file_name_runs_and_leaves_no_temporary_files(client, tokens, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the job's folder is made
    headers = auth(tokens["ingest"])
    name = "export-" + "x" * 300 + ".jsonl"  # 300+ characters: more than a file system takes
    content = (DATA / "chat" / "native.jsonl").read_bytes()
    started = client.post("/v1/ingest/files", files=[("files", (name, content, "application/json"))], headers=headers)
    assert started.status_code == 202, started.text
    job = finished_job(client, started.json()["id"], headers)
    assert job["state"] == "done" and job["files"] == [name] and job["report"]["records"]["stored"] > 0
    assert not list(tmp_path.glob("vocmine-upload-*"))

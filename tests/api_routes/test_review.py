"""The review queue as a quality team uses it."""

from __future__ import annotations

from tests.api_routes.conftest import auth


def test_queue_lists_flagged_conversations_most_severe_first(client, tokens):
    queue = client.get("/v1/review/queue", headers=auth(tokens["review"])).json()
    # "a" has an escalation (severity 5), "c" a churn risk (3); "b" and "d" have no flag.
    assert [(i["conversation_id"], i["max_severity"], i["status"]) for i in queue["items"]] == [
        ("a", 5, "new"),
        ("c", 3, "new"),
    ]
    assert queue["items"][0]["signals"] == ["escalation"]
    severe = client.get("/v1/review/queue", params={"min_severity": 5}, headers=auth(tokens["review"])).json()
    assert [i["conversation_id"] for i in severe["items"]] == ["a"]
    first = client.get("/v1/review/queue", params={"limit": 1}, headers=auth(tokens["review"])).json()
    second = client.get(
        "/v1/review/queue", params={"limit": 1, "cursor": first["next_cursor"]}, headers=auth(tokens["review"])
    ).json()
    assert [i["conversation_id"] for i in first["items"] + second["items"]] == ["a", "c"]
    assert second["next_cursor"] is None


def test_a_review_from_assignment_to_closing_the_loop(client, tokens):
    headers = auth(tokens["review"])
    assigned = client.post("/v1/review/a/assign", json={"assignee": "ana"}, headers=headers).json()
    assert assigned["assignee"] == "ana" and assigned["revision"] == 1
    started = client.post("/v1/review/a/status", json={"status": "in_review", "revision": 1}, headers=headers)
    assert started.status_code == 200 and started.json()["revision"] == 2
    stale = client.post("/v1/review/a/status", json={"status": "resolved", "revision": 1}, headers=headers)
    assert stale.status_code == 409 and "revision 1" in stale.json()["error"]["message"]
    client.post("/v1/review/a/notes", json={"text": "Called the customer, refund issued."}, headers=headers)
    closed = client.post("/v1/review/a/loop-closed", json={"closed": True}, headers=headers).json()
    assert closed["loop_closed"] and closed["loop_closed_at"]
    done = client.post("/v1/review/a/status", json={"status": "resolved"}, headers=headers).json()
    assert done["status"] == "resolved" and done["notes"][0]["text"].startswith("Called")
    by_status = client.get("/v1/review/queue", params={"status": "resolved"}, headers=headers).json()
    assert [i["conversation_id"] for i in by_status["items"]] == ["a"]
    mine = client.get("/v1/review/queue", params={"assignee": "ana"}, headers=headers).json()
    assert [i["conversation_id"] for i in mine["items"]] == ["a"]
    audit = client.get("/v1/review/a/audit", headers=headers).json()
    assert [e["action"] for e in audit] == ["update", "update", "note", "update", "update"]
    assert all(e["actor"].startswith("key:") and "review key" in e["actor"] for e in audit)


def test_status_moves_are_checked(client, tokens):
    headers = auth(tokens["review"])
    jump = client.post("/v1/review/c/status", json={"status": "resolved"}, headers=headers)
    assert jump.status_code == 409 and "in_review" in jump.json()["error"]["hint"]
    unknown = client.post("/v1/review/c/status", json={"status": "done"}, headers=headers)
    assert unknown.status_code == 400
    missing = client.post("/v1/review/zzz/status", json={"status": "in_review"}, headers=headers)
    assert missing.status_code == 404


def test_corrections_are_checked_and_kept_as_feedback(client, tokens, api_store):
    headers = auth(tokens["review"])
    fixed = client.post(
        "/v1/review/a/corrections",
        json={"field": "sentiment", "value": "neutral", "segment_id": "a:1:0"},
        headers=headers,
    )
    assert fixed.status_code == 200
    correction = fixed.json()["corrections"][0]
    assert correction["previous"] == "negative" and correction["value"] == "neutral" and correction["author"]
    theme = client.post(
        "/v1/review/a/corrections", json={"field": "theme", "value": "t1", "segment_id": "a:1:0"}, headers=headers
    )
    assert theme.status_code == 200 and theme.json()["corrections"][1]["previous"] == "t2"
    bad_value = client.post("/v1/review/a/corrections", json={"field": "stage", "value": "shopping"}, headers=headers)
    assert bad_value.status_code == 400 and "support" in bad_value.json()["error"]["hint"]
    foreign = client.post(
        "/v1/review/a/corrections",
        json={"field": "sentiment", "value": "neutral", "segment_id": "c:0:0"},
        headers=headers,
    )
    assert foreign.status_code == 400 and "not part of a" in foreign.json()["error"]["message"]
    feedback = api_store.iter_label_feedback()
    assert [(cid, c.field, c.value) for cid, c in feedback] == [("a", "sentiment", "neutral"), ("a", "theme", "t1")]


def test_a_note_is_redacted_like_the_conversation(client, tokens):
    headers = auth(tokens["review"])
    note = "Customer asked us to call 415 555 2671, or write to jane.doe.piitest@example.org."
    body = client.post("/v1/review/a/notes", json={"text": note}, headers=headers).json()
    assert body["notes"][-1]["text"] == "Customer asked us to call [PHONE], or write to [EMAIL]."

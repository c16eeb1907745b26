"""Alert rules put conversations in the review queue and POST signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from tests.api_routes.conftest import auth
from vocmine.schema import AlertRule
from vocmine.services.alerts import Notifier, rule_matches
from vocmine.testing.factories import analysis, conversation

SECRET = "s3cret-s3cret-s3cret"


def test_rule_conditions_all_have_to_hold():
    c = conversation("x", "worst service ever").model_copy(
        update={"channel": "call", "metadata": {"account_tier": "high"}}
    )
    a = analysis(c, label="negative", flags=("escalation",))
    rule = AlertRule(name="vip", channels=["call"], metadata={"account_tier": "high"}, max_sentiment_score=-0.7)
    assert rule_matches(rule, c, a)
    assert not rule_matches(rule.model_copy(update={"metadata": {"account_tier": "low"}}), c, a)
    assert not rule_matches(rule.model_copy(update={"channels": ["email"]}), c, a)
    assert not rule_matches(rule.model_copy(update={"max_sentiment_score": -0.9}), c, a)
    assert rule_matches(AlertRule(name="esc", signals=["escalation"], min_severity=5), c, a)
    assert not rule_matches(AlertRule(name="churn", signals=["churn_risk"]), c, a)


def test_a_matching_conversation_is_queued_and_a_signed_webhook_retried_until_delivered(client, tokens, api_store):
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        # For "a": down twice, then up; for "c": down for good.
        calls.append(request)
        conversation_id = json.loads(request.content)["conversation_id"]
        tries = sum(json.loads(c.content)["conversation_id"] == conversation_id for c in calls)
        return httpx.Response(200 if conversation_id == "a" and tries >= 3 else 503)

    notifier = Notifier(api_store, client=httpx.Client(transport=httpx.MockTransport(receiver)), sleep=lambda _: None)
    client.app.state.notifier = notifier
    admin = auth(tokens["admin"])
    rule = {
        "name": "sentiment dive on chat",
        "channels": ["chat"],
        "max_sentiment_score": -0.5,
        "webhook_url": "https://hooks.example.com/vocmine",
        "webhook_secret": SECRET,
    }
    created = client.post("/v1/alerts/rules", json=rule, headers=admin)
    assert created.status_code == 201
    assert created.json()["has_secret"] and created.json()["rule"]["webhook_secret"] is None
    fired = client.post("/v1/alerts/evaluate", params={"since_days": 3650}, headers=admin).json()["fired"]
    # "a" and "c" are negative chats; "b" is an e-mail, "d" neutral social.
    assert sorted(f["conversation_id"] for f in fired) == ["a", "c"]
    notifier.drain()
    outcomes = {d["conversation_id"]: d for d in api_store.list_deliveries()}
    assert outcomes["a"]["status"] == "delivered" and outcomes["a"]["attempts"] == 3  # 503, 503, then 200
    assert outcomes["c"]["status"] == "failed" and outcomes["c"]["attempts"] == 4 and "503" in outcomes["c"]["error"]
    body = calls[0].content
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert calls[0].headers["X-Vocmine-Signature"] == expected
    assert json.loads(body)["rule"] == "sentiment dive on chat"
    audit = client.get("/v1/review/c/audit", headers=auth(tokens["review"])).json()
    assert audit[0]["action"] == "alert" and audit[0]["actor"].startswith("alert:rule-")
    # Evaluating again queues nothing new and sends no second webhook.
    client.post("/v1/alerts/evaluate", params={"since_days": 3650}, headers=admin)
    notifier.drain()
    assert len(api_store.list_deliveries()) == 2


def test_rules_are_listed_and_deleted(client, tokens):
    admin = auth(tokens["admin"])
    rule_id = client.post("/v1/alerts/rules", json={"name": "x", "signals": ["escalation"]}, headers=admin).json()
    listed = client.get("/v1/alerts/rules", headers=admin).json()
    assert [r["rule"]["id"] for r in listed] == [rule_id["rule"]["id"]]
    assert client.delete(f"/v1/alerts/rules/{rule_id['rule']['id']}", headers=admin).status_code == 204
    assert client.delete(f"/v1/alerts/rules/{rule_id['rule']['id']}", headers=admin).status_code == 404
    bad = client.post("/v1/alerts/rules", json={"name": "y", "webhook_url": "ftp://x"}, headers=admin)
    assert bad.status_code == 400 and "webhook_url" in bad.json()["error"]["message"]

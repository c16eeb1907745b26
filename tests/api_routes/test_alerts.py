"""Alert rules put conversations in the review queue and POST signed webhooks with retries, only to
targets the server may call."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from tests.api_routes.conftest import auth
from vocmine.schema import AlertRule
from vocmine.services.alerts import Notifier, rule_matches
from vocmine.services.webhook_targets import WebhookPolicy, WebhookTargetError
from vocmine.testing.factories import analysis, conversation

SECRET = "s3cret-s3cret-s3cret"
# No DNS here: names resolve through this table (hooks.example.com to a public address).
ADDRESSES = {
    "hooks.example.com": ["93.184.216.34"],
    "rebound.example.com": ["93.184.216.34", "10.0.0.7"],
    "down.example.com": ["93.184.216.35"],
    "localhost": ["127.0.0.1", "::1"],
}


def fake_resolver(host: str, port: int) -> list[str]:
    if host in ADDRESSES:
        return ADDRESSES[host]
    try:  # an address literal resolves to itself
        import ipaddress

        return [str(ipaddress.ip_address(host))]
    except ValueError:
        raise OSError(f"unknown host {host}") from None


POLICY = WebhookPolicy(resolver=fake_resolver)


@pytest.fixture
def webhook_policy(client):
    client.app.state.webhook_policy = POLICY
    return POLICY


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


def test_a_matching_conversation_is_queued_and_a_signed_webhook_retried_until_delivered(
    client, tokens, api_store, webhook_policy
):
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        # For "a": down twice, then up; for "c": down for good.
        calls.append(request)
        conversation_id = json.loads(request.content)["conversation_id"]
        tries = sum(json.loads(c.content)["conversation_id"] == conversation_id for c in calls)
        return httpx.Response(200 if conversation_id == "a" and tries >= 3 else 503)

    notifier = Notifier(
        api_store,
        client=httpx.Client(transport=httpx.MockTransport(receiver)),
        sleep=lambda _: None,
        policy=webhook_policy,
    )
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
    # Signed over the timestamp, the delivery id and the body; one delivery id across its retries.
    for call in calls:
        timestamp, delivery = call.headers["X-Vocmine-Timestamp"], call.headers["X-Vocmine-Delivery"]
        signed = f"{timestamp}.{delivery}.".encode() + call.content
        assert (
            call.headers["X-Vocmine-Signature"]
            == "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        )
    by_conversation: dict[str, set[str]] = {}
    for call in calls:
        by_conversation.setdefault(json.loads(call.content)["conversation_id"], set()).add(
            call.headers["X-Vocmine-Delivery"]
        )
    assert all(len(ids) == 1 for ids in by_conversation.values()) and len(set.union(*by_conversation.values())) == 2
    assert json.loads(calls[0].content)["rule"] == "sentiment dive on chat"
    audit = client.get("/v1/review/c/audit", headers=auth(tokens["review"])).json()
    assert audit[0]["action"] == "alert" and audit[0]["actor"].startswith("alert:rule-")
    # Evaluating again queues nothing new and sends no second webhook.
    client.post("/v1/alerts/evaluate", params={"since_days": 3650}, headers=admin)
    notifier.drain()
    assert len(api_store.list_deliveries()) == 2


def test_rules_are_listed_and_deleted(client, tokens, webhook_policy):
    admin = auth(tokens["admin"])
    rule_id = client.post("/v1/alerts/rules", json={"name": "x", "signals": ["escalation"]}, headers=admin).json()
    listed = client.get("/v1/alerts/rules", headers=admin).json()
    assert [r["rule"]["id"] for r in listed] == [rule_id["rule"]["id"]]
    assert client.delete(f"/v1/alerts/rules/{rule_id['rule']['id']}", headers=admin).status_code == 204
    assert client.delete(f"/v1/alerts/rules/{rule_id['rule']['id']}", headers=admin).status_code == 404
    bad = client.post("/v1/alerts/rules", json={"name": "y", "webhook_url": "ftp://x"}, headers=admin)
    assert bad.status_code == 400 and "webhook_url" in bad.json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://[::1]:1/",
        "http://localhost:22/",
        "http://10.1.2.3/hook",
        "http://[::ffff:127.0.0.1]/hook",  # loopback written as IPv6
        "http://0.0.0.0:8000/",
        "https://rebound.example.com/hook",  # one public and one private address
        "https://no-such-host.invalid/hook",
    ],
)
def test_webhooks_to_the_servers_own_network_are_refused(client, tokens, webhook_policy, url):
    admin = auth(tokens["admin"])
    rule = {"name": "probe", "webhook_url": url, "webhook_secret": SECRET}
    refused = client.post("/v1/alerts/rules", json=rule, headers=admin)
    assert refused.status_code == 400, refused.text
    assert "webhook" in refused.json()["error"]["message"]
    assert client.get("/v1/alerts/rules", headers=admin).json() == []


def test_an_allow_list_and_the_private_switch_are_the_operators_to_set():
    allowed = WebhookPolicy(allowed_hosts=["hooks.example.com", "*.corp.example"], resolver=fake_resolver)
    allowed.check("https://hooks.example.com/x")
    with pytest.raises(WebhookTargetError, match="allow-list"):
        allowed.check("https://other.example.com/x")
    inside = WebhookPolicy(allowed_hosts=["*.corp.example"], allow_private=True, resolver=fake_resolver)
    inside.check("http://alerts.corp.example:8080/hook")  # no resolution needed: private is allowed
    with pytest.raises(WebhookTargetError, match="http"):
        POLICY.check("ftp://hooks.example.com/x")


def test_a_webhook_needs_a_secret(client, tokens, webhook_policy):
    admin = auth(tokens["admin"])
    unsigned = client.post(
        "/v1/alerts/rules", json={"name": "u", "webhook_url": "https://hooks.example.com/x"}, headers=admin
    )
    assert unsigned.status_code == 400 and "webhook_secret" in unsigned.json()["error"]["message"]


def test_deliveries_check_the_target_again_do_not_follow_redirects_and_hide_network_errors(api_store):
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.host == "hooks.example.com":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})
        raise httpx.ConnectError("connection refused by 93.184.216.35:5432 (postgres)", request=request)

    notifier = Notifier(
        api_store,
        client=httpx.Client(transport=httpx.MockTransport(receiver)),
        sleep=lambda _: None,
        policy=POLICY,
    )
    # Rules stored before the policy existed (not through the API): checked again at delivery.
    inward = AlertRule(id="rule-in", name="in", webhook_url="http://127.0.0.1:6379/", webhook_secret=SECRET)
    unsigned = AlertRule(id="rule-un", name="un", webhook_url="https://hooks.example.com/x")
    redirected = inward.model_copy(update={"id": "rule-re", "webhook_url": "https://hooks.example.com/x"})
    refused = inward.model_copy(update={"id": "rule-down", "webhook_url": "https://down.example.com/x"})
    for rule in (inward, unsigned, redirected, refused):
        notifier.send(rule, "a", "test", wait=True)
    outcomes = {d["rule_id"]: d for d in api_store.list_deliveries()}
    assert outcomes["rule-in"]["status"] == "not sent" and "not public" in outcomes["rule-in"]["error"]
    assert outcomes["rule-un"]["status"] == "not sent" and "secret" in outcomes["rule-un"]["error"]
    assert outcomes["rule-re"]["status"] == "refused 302"  # the redirect is the answer, not followed
    assert outcomes["rule-down"]["status"] == "failed" and outcomes["rule-down"]["error"] == "ConnectError"
    assert [c.url.host for c in calls].count("169.254.169.254") == 0
    assert [c.url.host for c in calls].count("hooks.example.com") == 1
    notifier.close()


def _recording_notifier(api_store) -> tuple[Notifier, list[httpx.Request]]:
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(receiver))
    return Notifier(api_store, client=client, sleep=lambda _: None, policy=POLICY), calls


def test_each_rule_that_matches_a_conversation_sends_its_own_webhook_once(client, tokens, api_store, webhook_policy):
    notifier, calls = _recording_notifier(api_store)
    client.app.state.notifier = notifier
    admin = auth(tokens["admin"])
    hook = {"webhook_url": "https://hooks.example.com/x", "webhook_secret": SECRET}
    for name in ("negative chats", "any chat"):
        rule = {"name": name, "channels": ["chat"], **hook}
        if name == "negative chats":
            rule["max_sentiment_score"] = -0.5
        assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    for _ in range(2):  # the second evaluation finds nothing new
        client.post("/v1/alerts/evaluate", params={"since_days": 3650}, headers=admin)
        notifier.drain()
    sent = sorted((json.loads(c.content)["rule"], json.loads(c.content)["conversation_id"]) for c in calls)
    # "a" and "c" are negative chats, both rules match them; before, only the first rule's webhook went.
    assert [p for p in sent if p[1] in ("a", "c")] == [
        ("any chat", "a"),
        ("any chat", "c"),
        ("negative chats", "a"),
        ("negative chats", "c"),
    ]
    notifier.close()


def test_a_theme_spike_sends_one_digest_not_one_webhook_per_conversation(api_store, monkeypatch):
    from datetime import date
    from types import SimpleNamespace

    from vocmine.services import alerts, insights

    spike = SimpleNamespace(theme_id="t7", emerging=True, rate_ratio=4.0, q_value=1e-5)
    window = SimpleNamespace(recent_start=date(2026, 11, 1), end=date(2026, 11, 30))
    monkeypatch.setattr(insights, "emerging", lambda *args, **kwargs: (window, [spike]))
    hits = [SimpleNamespace(conversation=SimpleNamespace(id=i)) for i in ("a", "b", "c")]
    monkeypatch.setattr(api_store, "search", lambda query: SimpleNamespace(hits=hits))
    rule = AlertRule(
        id="rule-spike",
        name="spikes",
        kind="theme_spike",
        webhook_url="https://hooks.example.com/x",
        webhook_secret=SECRET,
    )
    api_store.save_alert_rule(rule)
    notifier, calls = _recording_notifier(api_store)
    assert len(alerts.alert_theme_spikes(api_store, notifier)) == 3  # all three enter the queue
    notifier.drain()
    assert len(calls) == 1
    digest = json.loads(calls[0].content)
    assert digest["theme_id"] == "t7" and digest["conversation_ids"] == ["a", "b", "c"]
    alerts.alert_theme_spikes(api_store, notifier)  # the same spike again: nothing new to tell
    notifier.close()
    assert len(calls) == 1

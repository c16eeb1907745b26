"""Alerts: rules that put conversations in the review queue and may POST a signed webhook.

Conversation rules are checked on every conversation the API ingests and analyses (and on demand
over a filter); theme-spike rules when evaluated on demand (``POST /v1/alerts/evaluate``, e.g.
from a scheduler). A webhook body is JSON ``{"rule", "rule_id", "conversation_id", "reason",
"sent_at"}`` with header ``X-Vocmine-Signature: sha256=<hex HMAC-SHA256 of the body with the
rule's secret>`` (receivers recompute it to trust the call); failures and 5xx answers are retried
with backoff (0.5 s, 1 s, 2 s) and every delivery's outcome is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

import httpx

from vocmine.schema import AlertRule, Conversation, ConversationAnalysis, utcnow
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

RETRY_DELAYS = (0.5, 1.0, 2.0)


def rule_matches(rule: AlertRule, conversation: Conversation, analysis: ConversationAnalysis) -> bool:
    """Every condition the rule gives holds (lists mean any of)."""
    sentiment = analysis.sentiment
    checks = [
        not rule.channels or conversation.channel in rule.channels,
        not rule.brands or conversation.brand in rule.brands,
        not rule.products or conversation.product in rule.products,
        not rule.account_ids or conversation.account_id in rule.account_ids,
        all(str(conversation.metadata.get(k)) == v for k, v in rule.metadata.items()),
        not rule.sentiments or (sentiment is not None and sentiment.label in rule.sentiments),
        rule.max_sentiment_score is None
        or (sentiment is not None and sentiment.most_negative <= rule.max_sentiment_score),
        not rule.signals or bool({f.signal for f in analysis.flags} & set(rule.signals)),
        rule.min_severity is None or analysis.max_severity() >= rule.min_severity,
    ]
    return all(checks)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Notifier:
    """Delivers webhooks on a background thread so ingestion never waits on a receiver."""

    def __init__(
        self, store: Store, client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.store = store
        self.client = client or httpx.Client(timeout=5.0)
        self.sleep = sleep
        self._threads: list[threading.Thread] = []

    def send(self, rule: AlertRule, conversation_id: str, reason: str, *, wait: bool = False) -> None:
        thread = threading.Thread(target=self._deliver, args=(rule, conversation_id, reason), daemon=True)
        thread.start()
        self._threads.append(thread)
        if wait:
            thread.join()

    def drain(self, timeout: float = 30.0) -> None:
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _deliver(self, rule: AlertRule, conversation_id: str, reason: str) -> None:
        assert rule.webhook_url is not None
        body = json.dumps(
            {
                "rule": rule.name,
                "rule_id": rule.id,
                "conversation_id": conversation_id,
                "reason": reason,
                "sent_at": utcnow().isoformat(),
            }
        ).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if rule.webhook_secret:
            headers["X-Vocmine-Signature"] = sign(rule.webhook_secret, body)
        error: str | None = None
        for attempt in range(1, len(RETRY_DELAYS) + 2):
            try:
                response = self.client.post(rule.webhook_url, content=body, headers=headers)
                if response.status_code < 500:
                    status = "delivered" if response.status_code < 300 else f"refused {response.status_code}"
                    self.store.record_delivery(rule.id, conversation_id, status, attempt, None)
                    return
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt <= len(RETRY_DELAYS):
                self.sleep(RETRY_DELAYS[attempt - 1])
        self.store.record_delivery(rule.id, conversation_id, "failed", len(RETRY_DELAYS) + 1, error)


def alert_conversations(
    store: Store,
    analysed: Iterable[tuple[Conversation, ConversationAnalysis]],
    notifier: Notifier | None,
    rules: list[AlertRule] | None = None,
) -> list[tuple[str, str]]:
    """Apply the conversation rules; returns (rule id, conversation id) for every match."""
    rules = [r for r in (rules if rules is not None else store.list_alert_rules()) if r.kind == "conversation"]
    fired: list[tuple[str, str]] = []
    if not rules:
        return fired
    for conversation, analysis in analysed:
        for rule in rules:
            if rule_matches(rule, conversation, analysis):
                _fire(store, notifier, rule, conversation.id, f"matched rule {rule.name!r}")
                fired.append((rule.id, conversation.id))
    return fired


def alert_theme_spikes(store: Store, notifier: Notifier | None, limit: int = 50) -> list[tuple[str, str]]:
    """Apply the theme-spike rules: the recent conversations of each spiking theme enter the queue."""
    from vocmine.services.insights import WindowSpec, emerging
    from vocmine.store.query import SearchQuery

    fired = []
    for rule in (r for r in store.list_alert_rules() if r.kind == "theme_spike"):
        window, found = emerging(store, ConversationFilter(), WindowSpec(rule.recent_days, rule.baseline_days))
        for theme in found:
            if not theme.emerging or theme.rate_ratio < rule.min_rate_ratio:
                continue
            if rule.theme_id and theme.theme_id != rule.theme_id:
                continue
            reason = f"theme {theme.theme_id} spiking: rate ratio {theme.rate_ratio:.2f}, q {theme.q_value:.1e}"
            recent = ConversationFilter(
                themes=[theme.theme_id],
                since=_midnight(window.recent_start),
                until=_midnight(window.end),
            )
            for hit in store.search(SearchQuery(filter=recent, limit=limit)).hits:
                _fire(store, notifier, rule, hit.conversation.id, reason)
                fired.append((rule.id, hit.conversation.id))
    return fired


def _fire(store: Store, notifier: Notifier | None, rule: AlertRule, conversation_id: str, reason: str) -> None:
    newly_queued = store.enqueue_review(conversation_id, f"alert:{rule.id}", reason)
    # One webhook per conversation and queue entry: a re-analysis of a queued conversation is not news.
    if newly_queued and rule.webhook_url and notifier is not None:
        notifier.send(rule, conversation_id, reason)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)

"""Alerts: rules that put conversations in the review queue and may POST a signed webhook.

Conversation rules are checked on every conversation the API ingests and analyses (and on demand
over a filter); theme-spike rules when evaluated on demand (``POST /v1/alerts/evaluate``, e.g.
from a scheduler). A webhook needs a secret, and its target must pass ``WebhookPolicy`` (public
addresses only unless configured otherwise; ``webhook_targets.py``) when the rule is made and before
every delivery. Each rule sends one webhook per conversation it matches (however many other rules
match it too, and however often it is re-analysed); a theme-spike rule sends one digest per spike.
A delivery is a POST of JSON ``{"rule", "rule_id", "conversation_id", "reason", "sent_at"}`` (a
digest: ``conversation_id`` is ``theme:<id>``, plus ``theme_id`` and ``conversation_ids``) with the
headers

* ``X-Vocmine-Delivery``: an id, the same on every retry of one delivery (so a receiver can drop
  duplicates);
* ``X-Vocmine-Timestamp``: Unix seconds when this attempt was sent (a receiver rejects old ones, to
  stop replays);
* ``X-Vocmine-Signature``: ``sha256=<hex HMAC-SHA256, with the rule's secret, of
  "<timestamp>.<delivery id>." followed by the raw body>``: a receiver recomputes it over the
  headers it got and the body, compares in constant time, and so trusts all three.

Failures and 5xx answers are retried with backoff (0.5 s, 1 s, 2 s); redirects are not followed;
every delivery's outcome is recorded (for a failure, the kind of error, not the text a receiver or
network returned). Deliveries run on a small bounded pool, and the API waits for pending ones when
it shuts down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import httpx

from vocmine.schema import AlertRule, Conversation, ConversationAnalysis, utc_midnight, utcnow
from vocmine.services.webhook_targets import WebhookPolicy, WebhookTargetError
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0)
DELIVERY_WORKERS = 4  # deliveries in flight at once; more matches wait in the pool's queue


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


def sign(secret: str, timestamp: str, delivery_id: str, body: bytes) -> str:
    """The ``X-Vocmine-Signature`` value: HMAC-SHA256 of "<timestamp>.<delivery id>." + body."""
    signed = f"{timestamp}.{delivery_id}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def check_webhook(rule: AlertRule, policy: WebhookPolicy) -> None:
    """Raise ``WebhookTargetError`` unless the rule's webhook (if any) can be sent: a secret and an
    allowed target."""
    if rule.webhook_url is None:
        return
    if not rule.webhook_secret:
        raise WebhookTargetError(
            "a webhook needs a webhook_secret (16 characters or more)",
            hint="receivers check the X-Vocmine-Signature header with it; unsigned webhooks are not sent",
        )
    policy.check(rule.webhook_url)


class Notifier:
    """Delivers webhooks on a small thread pool so ingestion never waits on a receiver."""

    def __init__(
        self,
        store: Store,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: WebhookPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.client = client or httpx.Client(timeout=5.0, follow_redirects=False)
        self.sleep = sleep
        self.policy = policy or WebhookPolicy()
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=DELIVERY_WORKERS, thread_name_prefix="vocmine-webhook")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()  # the pool's threads remove finished deliveries as they end

    def send(
        self,
        rule: AlertRule,
        conversation_id: str,
        reason: str,
        *,
        extra: dict[str, object] | None = None,
        wait: bool = False,
    ) -> None:
        """Deliver one webhook about ``conversation_id`` (for a theme spike, ``theme:<id>``, with the
        conversations in ``extra``)."""
        future = self._pool.submit(self._deliver, rule, conversation_id, reason, extra or {})
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)
        if wait:
            future.result()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait (up to ``timeout`` seconds) for the deliveries sent so far."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def _finished(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            # Not swallowed by the pool: a delivery that could not even be recorded is logged.
            log.error("webhook delivery failed: %s", type(future.exception()).__name__)

    def close(self, timeout: float = 30.0) -> None:
        """Finish pending deliveries (up to ``timeout``), then stop the pool."""
        self.drain(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, rule: AlertRule, conversation_id: str, reason: str, extra: dict[str, object]) -> None:
        assert rule.webhook_url is not None
        try:  # again at delivery: the rule may predate the policy, or its host resolve elsewhere now
            check_webhook(rule, self.policy)
        except WebhookTargetError as exc:
            self.store.record_delivery(rule.id, conversation_id, "not sent", 0, exc.message)
            return
        assert rule.webhook_secret is not None
        body = json.dumps(
            {
                "rule": rule.name,
                "rule_id": rule.id,
                "conversation_id": conversation_id,
                "reason": reason,
                **extra,
                "sent_at": utcnow().isoformat(),
            }
        ).encode("utf-8")
        delivery_id = uuid.uuid4().hex
        error: str | None = None
        for attempt in range(1, len(RETRY_DELAYS) + 2):
            timestamp = str(int(self.clock()))
            headers = {
                "Content-Type": "application/json",
                "X-Vocmine-Delivery": delivery_id,
                "X-Vocmine-Timestamp": timestamp,
                "X-Vocmine-Signature": sign(rule.webhook_secret, timestamp, delivery_id, body),
            }
            try:
                response = self.client.post(rule.webhook_url, content=body, headers=headers)
                if response.status_code < 500:
                    status = "delivered" if response.status_code < 300 else f"refused {response.status_code}"
                    self.store.record_delivery(rule.id, conversation_id, status, attempt, None)
                    return
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                # The kind of failure only: a connection error's text would tell the rule's author
                # what listens where on the receiver's network.
                error = type(exc).__name__
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
    """Apply the theme-spike rules: the recent conversations of each spiking theme enter the queue,
    and the rule's webhook gets one digest per spike (the theme and the conversations newly queued
    for it), not one call per conversation."""
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
                since=utc_midnight(window.recent_start),
                until=utc_midnight(window.end),
            )
            new = []
            for hit in store.search(SearchQuery(filter=recent, limit=limit)).hits:
                if _queue(store, rule, hit.conversation.id, reason):
                    new.append(hit.conversation.id)
                fired.append((rule.id, hit.conversation.id))
            if new and rule.webhook_url and notifier is not None:
                extra: dict[str, object] = {"theme_id": theme.theme_id, "conversation_ids": new}
                notifier.send(rule, f"theme:{theme.theme_id}", reason, extra=extra)
    return fired


def _fire(store: Store, notifier: Notifier | None, rule: AlertRule, conversation_id: str, reason: str) -> None:
    if _queue(store, rule, conversation_id, reason) and rule.webhook_url and notifier is not None:
        notifier.send(rule, conversation_id, reason)


def _queue(store: Store, rule: AlertRule, conversation_id: str, reason: str) -> bool:
    """Queue the conversation for review on the rule's behalf; True if this rule had not alerted on it
    before. Webhooks go out once per rule and conversation: a second rule matching a conversation
    another rule queued is news to its own receiver, a re-analysis of the same match is not."""
    return store.alert_review(conversation_id, f"alert:{rule.id}", reason)

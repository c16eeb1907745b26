"""Alert rules (admin): create, list, delete; evaluate them on demand; see webhook deliveries.
Conversation rules also run on everything ingested through the API (vocmine/services/alerts.py)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from vocmine.schema import AlertRule, utcnow
from vocmine.services.alerts import alert_conversations, alert_theme_spikes, check_webhook
from vocmine.store.query import ConversationFilter
from vocmine_api.deps import StoreDep, require
from vocmine_api.routes.themes import NOT_FOUND

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], dependencies=[Depends(require("admin"))])


class RuleView(BaseModel):
    rule: AlertRule
    has_secret: bool


class Evaluation(BaseModel):
    fired: list[dict[str, str]]


def _view(rule: AlertRule) -> RuleView:
    # The signing secret is write-only: it never leaves the server again.
    return RuleView(rule=rule.model_copy(update={"webhook_secret": None}), has_secret=bool(rule.webhook_secret))


@router.post("/rules", response_model=RuleView, status_code=201, responses=NOT_FOUND)
def create_rule(rule: AlertRule, request: Request, store: StoreDep) -> RuleView:
    """Create a rule; ``id`` and ``created_at`` are set by the server. A webhook needs a secret and a
    target the server may call (public addresses only, unless the operator configured otherwise)."""
    check_webhook(rule, request.app.state.webhook_policy)
    saved = rule.model_copy(update={"id": "rule-" + secrets.token_hex(4), "created_at": utcnow()})
    store.save_alert_rule(saved)
    return _view(saved)


@router.get("/rules", response_model=list[RuleView], responses=NOT_FOUND)
def list_rules(store: StoreDep) -> list[RuleView]:
    return [_view(r) for r in store.list_alert_rules()]


@router.delete("/rules/{rule_id}", status_code=204, responses=NOT_FOUND)
def delete_rule(rule_id: str, store: StoreDep) -> None:
    store.delete_alert_rule(rule_id)


@router.post("/evaluate", response_model=Evaluation, responses=NOT_FOUND)
def evaluate(request: Request, store: StoreDep, since_days: int = 7) -> Evaluation:
    """Run every rule now: conversation rules over the last ``since_days`` of analysed conversations
    (by start time), theme-spike rules over their windows."""
    from datetime import timedelta

    notifier = request.app.state.notifier
    since = utcnow() - timedelta(days=max(1, min(since_days, 3650)))
    conversations = list(store.iter_conversations(ConversationFilter(since=since)))
    analyses = store.get_analyses([c.id for c in conversations])
    pairs = [(c, analyses[c.id]) for c in conversations if c.id in analyses]
    fired = alert_conversations(store, pairs, notifier) + alert_theme_spikes(store, notifier)
    return Evaluation(fired=[{"rule_id": r, "conversation_id": c} for r, c in fired])


@router.get("/deliveries", response_model=list[dict[str, Any]], responses=NOT_FOUND)
def deliveries(store: StoreDep, rule_id: str | None = None) -> list[dict[str, Any]]:
    """Webhook deliveries with their outcome and attempts."""
    return store.list_deliveries(rule_id)

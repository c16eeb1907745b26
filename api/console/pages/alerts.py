"""Alert rules (admin): the rules, a form to create one (checked as ``POST /v1/alerts/rules`` checks
it: the rule's fields, then its webhook's secret and target), deleting one, and the latest webhook
deliveries with their outcome."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from vocmine.analysis.signals.heads import SIGNALS
from vocmine.schema import AlertRule, utcnow
from vocmine.services.alerts import check_webhook
from vocmine.services.webhook_targets import WebhookTargetError
from vocmine.store.protocol import Store
from vocmine_api.console.filters import CHANNELS, SENTIMENTS
from vocmine_api.console.people import Person, viewer, writer
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep

router = APIRouter(include_in_schema=False)
Admin = Annotated[Person, Depends(viewer("admin"))]
AdminWriter = Annotated[Person, Depends(writer("admin"))]
RECENT_DELIVERIES = 50
LIST_FIELDS = ("channels", "sentiments", "signals")  # checkboxes: one form value each
TEXT_LISTS = ("brands", "products", "account_ids")  # comma-separated text
NUMBERS = ("max_sentiment_score", "min_severity", "min_rate_ratio", "recent_days", "baseline_days")
TEXTS = ("name", "kind", "theme_id", "webhook_url", "webhook_secret")


def _rule_fields(form: dict[str, list[str]]) -> dict[str, Any]:
    """The form's values as AlertRule fields (empty fields left out, so the rule's defaults apply)."""
    fields: dict[str, Any] = {}
    for name in TEXTS:
        value = (form.get(name) or [""])[0].strip()
        if value:
            fields[name] = value
    for name in LIST_FIELDS:
        values = [v for v in form.get(name, []) if v]
        if values:
            fields[name] = values
    for name in TEXT_LISTS:
        values = [v.strip() for v in (form.get(name) or [""])[0].split(",") if v.strip()]
        if values:
            fields[name] = values
    for name in NUMBERS:
        value = (form.get(name) or [""])[0].strip()
        if value:
            fields[name] = value  # pydantic reads the number (and says so when it is not one)
    metadata = {}
    for line in (form.get("metadata") or [""])[0].splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            metadata[key.strip()] = value.strip()
    if metadata:
        fields["metadata"] = metadata
    return fields


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors())


def _page(
    request: Request,
    person: Person,
    store: Store,
    *,
    problem: str | None = None,
    form: dict[str, list[str]] | None = None,
    done: str | None = None,
) -> Response:
    rules = store.list_alert_rules()
    by_id = {r.id: r for r in rules}
    deliveries = list(reversed(store.list_deliveries()[-RECENT_DELIVERIES:]))
    themes = sorted(
        (t for t in store.list_themes() if t.status == "active"), key=lambda t: (t.level != "theme", t.display_name)
    )
    return page(
        request,
        person,
        "alerts.html",
        "Alerts",
        status_code=400 if problem else 200,
        rules=rules,
        by_id=by_id,
        deliveries=deliveries,
        themes=themes,
        channels=CHANNELS,
        sentiments=SENTIMENTS,
        signals=SIGNALS,
        problem=problem,
        form=form or {},
        done={"created": "Rule created.", "deleted": "Rule deleted."}.get(done or ""),
    )


@router.get("/alerts")
def alerts_page(request: Request, person: Admin, store: StoreDep, done: str | None = None) -> Response:
    return _page(request, person, store, done=done)


Text = Annotated[str, Form(max_length=2000)]
Checked = Annotated[list[str], Form()]


@router.post("/alerts/rules")
def create_rule(
    request: Request,
    person: AdminWriter,
    store: StoreDep,
    name: Text = "",
    kind: Text = "conversation",
    channels: Checked = [],  # noqa: B006 (FastAPI copies defaults)
    sentiments: Checked = [],  # noqa: B006
    signals: Checked = [],  # noqa: B006
    brands: Text = "",
    products: Text = "",
    account_ids: Text = "",
    metadata: Text = "",
    max_sentiment_score: Text = "",
    min_severity: Text = "",
    theme_id: Text = "",
    min_rate_ratio: Text = "",
    recent_days: Text = "",
    baseline_days: Text = "",
    webhook_url: Text = "",
    webhook_secret: Text = "",
) -> Response:
    texts = {
        "name": name, "kind": kind, "brands": brands, "products": products, "account_ids": account_ids,
        "metadata": metadata, "max_sentiment_score": max_sentiment_score, "min_severity": min_severity,
        "theme_id": theme_id, "min_rate_ratio": min_rate_ratio, "recent_days": recent_days,
        "baseline_days": baseline_days, "webhook_url": webhook_url, "webhook_secret": webhook_secret,
    }  # fmt: skip
    form = {**{k: [v] for k, v in texts.items()}, "channels": channels, "sentiments": sentiments, "signals": signals}
    try:
        rule = AlertRule.model_validate(_rule_fields(form))
        check_webhook(rule, request.app.state.webhook_policy)
    except ValidationError as exc:
        problem = f"The rule was not created: {_problems(exc)}. Correct those fields and create it again."
        return _page(request, person, store, problem=problem, form=form)
    except WebhookTargetError as exc:
        problem = f"The rule was not created: {exc.message}" + (f" ({exc.hint})." if exc.hint else ".")
        return _page(request, person, store, problem=problem, form=form)
    store.save_alert_rule(rule.model_copy(update={"id": "rule-" + secrets.token_hex(4), "created_at": utcnow()}))
    return RedirectResponse("/alerts?done=created", status_code=303)


@router.post("/alerts/rules/{rule_id}/delete")
def delete_rule(rule_id: str, person: AdminWriter, store: StoreDep) -> Response:
    store.delete_alert_rule(rule_id)  # an unknown rule: the 404 page
    return RedirectResponse("/alerts?done=deleted", status_code=303)

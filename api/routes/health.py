"""Liveness and readiness: the only routes open without a key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vocmine_api.deps import SettingsDep, StoreDep
from vocmine_api.schemas import Health, Readiness

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(request: Request, store: StoreDep, settings: SettingsDep) -> Readiness | JSONResponse:
    """The store answers and the analysis models can be loaded; 503 names what is down."""
    checks: dict[str, str] = {}
    try:
        store.latest_start()  # a real query, but an index lookup: probes call this every few seconds
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"down: {exc}"
    try:
        from pathlib import Path

        from vocmine.analysis.journey.model import DEFAULT_HEAD, JourneyHead
        from vocmine.analysis.signals.heads import DEFAULT_HEADS, SignalHeads
        from vocmine.analysis.signals.rules import DEFAULT_RULES, SignalRules

        JourneyHead.load(DEFAULT_HEAD if settings.journey_head == "shipped" else Path(settings.journey_head))
        SignalRules.load(DEFAULT_RULES if settings.signal_rules == "shipped" else Path(settings.signal_rules))
        if settings.signal_heads != "none":
            SignalHeads.load(DEFAULT_HEADS if settings.signal_heads == "shipped" else Path(settings.signal_heads))
        if settings.api_load_models and request.app.state.analyzer is None:
            raise RuntimeError("analysis models not loaded")
        checks["models"] = "ok"
    except Exception as exc:
        checks["models"] = f"down: {exc}"
    ok = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ok else "not ready", checks=checks)
    return body if ok else JSONResponse(body.model_dump(), status_code=503)

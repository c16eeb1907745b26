"""What routes depend on: the store and settings of the app, the caller's API key with the scope a
route needs, and the conversation filter read from query parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from vocmine.schema import ApiKey, Channel, SentimentLabel, StageName, ThemeLevel, Trajectory
from vocmine.services.insights import WindowSpec, with_subthemes
from vocmine.services.keys import allows, verify_token
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter
from vocmine_api.errors import ApiError

# Dependencies that never block are ``async def``: FastAPI runs a plain ``def`` dependency in its
# thread pool, and each such hop cost ~0.5 ms and a GIL hand-over per request under load.


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# The answers to a request without a usable key, here and in key_check (which runs before the body).
CHALLENGE = {"WWW-Authenticate": "Bearer"}
MISSING_HINT = "send Authorization: Bearer <key> (create one: vocmine keys create)"
INVALID_HINT = "check the key, or create a new one"


def token_of(headers: Mapping[str, str]) -> str | None:
    """The API key a request carries: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return headers.get("x-api-key")


# The two ways to send a key, declared so the OpenAPI schema lists them as security schemes (and
# /docs offers "Authorize"); ``token_of`` reads the same headers for the check before the body.
BEARER = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer <key>")
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key, as X-API-Key: <key>")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
ApiKeyHeaderDep = Annotated[str | None, Depends(API_KEY_HEADER)]


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency: the caller's key, which must hold ``scope`` (admin holds every scope)."""

    def check(request: Request, store: StoreDep, _bearer: BearerDep, _header: ApiKeyHeaderDep) -> ApiKey:
        token = token_of(request.headers)
        if not token:
            raise ApiError(401, "missing API key", MISSING_HINT, CHALLENGE)
        key = verify_token(store, token)
        if key is None:
            raise ApiError(401, "invalid or revoked API key", INVALID_HINT, CHALLENGE)
        if not allows(key, scope):
            raise ApiError(403, f"this key lacks the {scope!r} scope", f"use a key created with --scope {scope}")
        request.state.key = key
        return key

    return check


def _iso_only(value: object) -> object:
    """A date-time must be written as one (``2026-03-01``, ``2026-03-01T09:00:00Z``): pydantic would
    also read a bare number as seconds since 1970, so ``until=0.5`` meant a moment in 1970."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
        raise ValueError("give an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


async def conversation_filter(
    channel: Annotated[list[Channel], Query(description="chat, email, social or call")] = [],  # noqa: B006
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    brand: Annotated[list[str], Query()] = [],  # noqa: B006
    product: Annotated[list[str], Query()] = [],  # noqa: B006
    agent: Annotated[list[str], Query()] = [],  # noqa: B006
    team: Annotated[list[str], Query()] = [],  # noqa: B006
    language: Annotated[list[str], Query()] = [],  # noqa: B006
    since: Annotated[IsoDateTime | None, Query(description="started at or after (ISO 8601; UTC if no zone)")] = None,
    until: Annotated[IsoDateTime | None, Query(description="started before (ISO 8601; UTC if no zone)")] = None,
    sentiment: Annotated[list[SentimentLabel], Query(description="negative, neutral or positive")] = [],  # noqa: B006
    stage: Annotated[list[StageName], Query(description="journey stage, unknown or unsupported_language")] = [],  # noqa: B006
    trajectory: Annotated[list[Trajectory], Query(description="improved, worsened or steady")] = [],  # noqa: B006
    flag: Annotated[list[str], Query(description="a signal name, e.g. escalation")] = [],  # noqa: B006
    min_severity: Annotated[int | None, Query(ge=1, le=5)] = None,
    theme: Annotated[list[str], Query(description="theme id")] = [],  # noqa: B006
) -> ConversationFilter:
    from pydantic import ValidationError

    try:
        return ConversationFilter(
            channels=channel, sources=source, brands=brand, products=product, agent_ids=agent, team_ids=team,
            languages=language, since=since, until=until, sentiments=sentiment, stages=stage,
            trajectories=trajectory, signals=flag, min_severity=min_severity, themes=theme,
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ApiError(400, f"invalid filter: {problems}", "see the allowed values in /v1/openapi.json") from exc


async def theme_filter(
    filter: Annotated[ConversationFilter, Depends(conversation_filter)], store: StoreDep
) -> ConversationFilter:
    """The conversation filter, where a top-level theme also matches its sub-themes' segments."""
    return with_subthemes(store, filter)


FilterDep = Annotated[ConversationFilter, Depends(theme_filter)]
Level = Annotated[
    ThemeLevel, Query(description="theme: the top-level themes (default); subtheme: the fine themes inside them")
]

Recent = Annotated[int, Query(ge=1, le=366, description="days in the recent window")]
Baseline = Annotated[int, Query(ge=1, le=1830, description="days in the baseline before it")]
End = Annotated[date | None, Query(description="window end, exclusive (default: the day after the last conversation)")]


async def window_spec(recent_days: Recent = 14, baseline_days: Baseline = 56, end: End = None) -> WindowSpec:
    """The recent and baseline windows that emerging themes and priorities compare."""
    return WindowSpec(recent_days, baseline_days, end)


WindowDep = Annotated[WindowSpec, Depends(window_spec)]


def check_page_size(limit: int, settings: Settings) -> None:
    if limit > settings.api_max_page_size:
        raise ApiError(
            400, f"limit {limit} is over the page size limit {settings.api_max_page_size}", "page with cursor"
        )

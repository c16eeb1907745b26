"""One module per console page (or group of pages), each with its ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from vocmine_api.console.pages import (
    agents,
    alerts,
    conversation,
    insights,
    overview,
    review,
    search,
    sign_in,
    themes,
)

ROUTERS: list[APIRouter] = [
    sign_in.router,
    overview.router,
    themes.router,
    insights.router,
    search.router,
    conversation.router,
    review.router,
    alerts.router,
    agents.router,
]

"""``create_app()``: the FastAPI application.

The store comes from settings (``VOCMINE_STORE``: SQLite by default) unless one is passed in
(tests, the demo). Everything under ``/v1`` needs an API key except ``/v1/health`` and
``/v1/ready``. Request bodies over ``VOCMINE_API_MAX_BODY_BYTES`` get a 413 before they are read
whole; CORS is off unless ``VOCMINE_API_CORS_ORIGINS`` names origins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware

from vocmine.analysis.pipeline import Analyzer
from vocmine.schema import Conversation, ConversationAnalysis
from vocmine.services.alerts import Notifier, alert_conversations
from vocmine.services.uploads import JobRunner, OnAnalysed
from vocmine.services.webhook_targets import WebhookPolicy
from vocmine.settings import Settings
from vocmine.store.factory import open_store
from vocmine.store.protocol import Store
from vocmine_api import access_log, errors
from vocmine_api.console import mount_console
from vocmine_api.deps import require
from vocmine_api.docs import mount_docs
from vocmine_api.key_check import KeyBeforeBody
from vocmine_api.limits import BodySizeLimit
from vocmine_api.metrics import Metrics
from vocmine_api.routes import agents, alerts, conversations, health, ingest, insights, review, scores, search, themes


def _load_analyzer(settings: Settings, store: Store) -> Analyzer:
    """The analysis models, loaded once at start-up (one warm-up call) rather than on the first
    request."""
    from vocmine.schema import Conversation, Turn
    from vocmine.services.analysis import build_analyzer

    analyzer = build_analyzer(settings, store=store)
    analyzer.analyse(
        [Conversation(id="warm-up", channel="chat", source="api", turns=[Turn(role="customer", text="hi")])]
    )
    return analyzer


def _alerting(app: FastAPI) -> OnAnalysed:
    """Conversation alert rules, applied to what the API ingests and analyses."""

    def apply(analysed: list[tuple[Conversation, ConversationAnalysis]]) -> None:
        alert_conversations(app.state.store, analysed, app.state.notifier)

    return apply


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    owns_store = store is None
    access_log.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            app.state.store = open_store(settings.store)
        if settings.api_memory_aggregates:
            app.state.store.prepare_serving()
        app.state.analyzer = _load_analyzer(settings, app.state.store) if settings.api_load_models else None
        app.state.notifier = Notifier(app.state.store, policy=app.state.webhook_policy)
        app.state.jobs.recover()  # jobs a stopped process left "running" are failed, not left hanging
        if app.state.analyzer is not None and app.state.embed is None:
            analyzer = app.state.analyzer
            app.state.embed = lambda texts: analyzer.segment_outputs(list(texts))[0]
        yield
        if app.state.notifier is not None:
            app.state.notifier.close()  # deliveries already matched are sent, not dropped
        if owns_store and app.state.store is not None:
            app.state.store.close()

    app = FastAPI(
        title="vocmine",
        version="1",
        description="Voice-of-Customer text mining: search, themes, trends, priorities, drivers.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served under /v1 behind a key (below)
    )
    app.state.settings = settings
    app.state.store = store
    app.state.analyzer = None
    app.state.embed = None  # text → vectors for semantic search; set from the analyzer at start-up
    app.state.webhook_policy = WebhookPolicy(settings.webhook_allowed_hosts, settings.webhook_allow_private)
    app.state.notifier = Notifier(store, policy=app.state.webhook_policy) if store is not None else None
    app.state.on_analysed = _alerting(app)  # what runs on every conversation the API analyses
    app.state.jobs = JobRunner(
        settings, lambda: app.state.store, lambda: app.state.analyzer, lambda: app.state.on_analysed
    )
    errors.install(app)
    metrics = Metrics()
    app.state.metrics = metrics
    # The middleware added last runs first: the key is checked (KeyBeforeBody) before the body is
    # counted (BodySizeLimit) or parsed by a route.
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(KeyBeforeBody)
    metrics.install(app)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.include_router(health.router)
    # insights before themes: /themes/trends must not be read as the theme id "trends".
    for module in (conversations, search, insights, scores, themes, review, agents, ingest, alerts):
        app.include_router(module.router)

    # The schema and its reader are public: they describe the routes, never the data, and /docs must
    # load the schema in a browser before anyone has pasted a key into "Authorize".
    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, object]:
        return app.openapi()

    mount_docs(app, "/v1/openapi.json")
    mount_console(app)  # the web console at / (api/console/)

    @app.get("/v1/metrics", include_in_schema=False, dependencies=[Depends(require("read"))])
    def prometheus() -> Response:
        return metrics.response()

    return app

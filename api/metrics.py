"""Prometheus metrics for the API, from prometheus-fastapi-instrumentator (a maintained library, so
every response is counted however it ends: a route's answer, a middleware's refusal before the
route, an unhandled exception's 500). Requests and latency by route template, method and exact
status, named ``vocmine_http_*``, in a registry of the app's own (several apps in one process, as in
tests, do not collide). ``GET /v1/metrics`` serves them behind a read key."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()

    def install(self, app: FastAPI) -> None:
        """Instrument ``app``; call it after the other middlewares so it is the outermost and sees the
        responses they give (401 before the body, 413) too."""
        Instrumentator(
            should_group_status_codes=False,  # 401 and 403 apart, not "4xx"
            should_group_untemplated=True,  # unknown paths as one "none" handler, not one series each
            registry=self.registry,
        ).instrument(app, metric_namespace="vocmine")

    def response(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

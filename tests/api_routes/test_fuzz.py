"""A bounded schemathesis run against the OpenAPI schema: generated requests (valid and not) to
every operation, with an admin key; no response may be a 5xx and every response must match the
schema (status code documented, body valid)."""

from __future__ import annotations

import tempfile

import numpy as np
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api_routes.conftest import ROWS
from vocmine.services.keys import create_key
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import catalog, seed_analysed
from vocmine_api import create_app


def _app():  # type: ignore[no-untyped-def]
    store = SQLiteStore(":memory:")
    seed_analysed(store, ROWS)
    store.replace_themes(catalog("t1", "t2", "t3"), "themes-test")
    _, token = create_key(store, "fuzz", ["admin"])
    settings = Settings(store="sqlite:///:memory:", api_load_models=False, report_dir=tempfile.mkdtemp())
    app = create_app(settings, store=store)
    # A stand-in encoder (the seeded vectors have 8 dimensions), so semantic and hybrid search run too.
    app.state.embed = lambda texts: [np.ones(8, dtype=np.float32) / np.sqrt(8) for _ in texts]
    return app, token


APP, TOKEN = _app()
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", APP, headers={"Authorization": f"Bearer {TOKEN}"})


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case):  # type: ignore[no-untyped-def]
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance])

"""Every route but health, readiness and the API's description (the OpenAPI schema and /docs) needs
a key with the right scope: 401 without a key, with a malformed, unknown, wrong or revoked key; 403
without the scope; never the route's answer."""

from __future__ import annotations

import pytest

from tests.api_routes.conftest import auth
from vocmine.services.keys import create_key
from vocmine.settings import Settings
from vocmine_api import create_app

OPEN = {"/v1/health", "/v1/ready"}
# The scope each route needs (admin holds every scope).
SCOPE = {
    ("POST", "/v1/themes/{theme_id}/rename"): "admin",
    ("POST", "/v1/themes/merge"): "admin",
}
EXAMPLE_PATH = {
    "{conversation_id}": "a",
    "{theme_id}": "t1",
    "{metric}": "nps",
    "{job_id}": "no-such-job",
    "{rule_id}": "rule-none",
}
BODIES = {
    "rename": {"name": "x"},
    "merge": {"sources": ["t3"], "into": "t1"},
    "assign": {"assignee": "ana"},
    "status": {"status": "in_review"},
    "notes": {"text": "called the customer"},
    "loop-closed": {"closed": True},
    "corrections": {"field": "sentiment", "value": "negative"},
    "conversations": {"conversations": []},
    "rules": {"name": "escalations", "signals": ["escalation"]},
    "evaluate": None,
}


def _scope(method: str, path: str) -> str:
    if path.startswith("/v1/review"):
        return "review"
    if path.startswith(("/v1/ingest", "/v1/jobs")):
        return "ingest"
    if path.startswith("/v1/alerts"):
        return "admin"
    return SCOPE.get((method, path), "read")


def _send(client, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if path.endswith("/ingest/files"):
        return client.post(path, headers=headers, files=[("files", ("empty.jsonl", b"", "application/json"))])
    body = BODIES[path.rsplit("/", 1)[-1]] if method == "POST" else None
    return client.request(method, _url(path), headers=headers, json=body)


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(store="sqlite:///:memory:"), store=object())  # type: ignore[arg-type]
    found = [(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item if path not in OPEN]
    return [*found, ("GET", "/v1/metrics")]


ROUTES = _routes()


def _url(path: str) -> str:
    for placeholder, value in EXAMPLE_PATH.items():
        path = path.replace(placeholder, value)
    return path


def test_every_protected_route_is_listed():
    assert len(ROUTES) >= 12
    assert ("GET", "/v1/metrics") in ROUTES


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_route_refuses_missing_bad_and_revoked_keys(client, api_store, tokens, method, path):
    revoked_key, revoked = create_key(api_store, "old", ["admin"])
    api_store.revoke_api_key(revoked_key.id)
    for headers in (
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Bearer vm_000000000000_" + "x" * 43},
        {"Authorization": tokens["read"][:-2] + "zz"},
        auth(tokens["read"][:-2] + "zz"),
        auth(revoked),
        {"X-API-Key": revoked},
    ):
        response = _send(client, method, path, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_route_needs_its_scope(client, tokens, method, path):
    needed = _scope(method, path)
    for scope, token in tokens.items():
        response = _send(client, method, path, auth(token))
        if scope in (needed, "admin"):
            # The route ran: its answer, or its own 404 for the example job or rule id.
            placeholder = path.endswith(("{job_id}", "{rule_id}"))
            assert response.status_code in (200, 201, 202, 204) or (placeholder and response.status_code == 404)
            assert response.status_code != 404 or response.json()["error"]["message"].startswith(("no job", "no alert"))
        else:
            assert response.status_code == 403, (scope, response.text)
            assert needed in response.json()["error"]["message"]


def test_x_api_key_header_works_too(client, tokens):
    assert client.get("/v1/themes", headers={"X-API-Key": tokens["read"]}).status_code == 200


def test_the_key_is_checked_before_the_body_is_read(client, tokens):
    # Malformed JSON, and a body far over the size limit, from a caller without a valid key: the
    # answer is about the key (before, the first was a 400 about the body).
    for headers in ({}, {"Authorization": "Bearer vm_unknown_key"}):
        broken = client.post(
            "/v1/ingest/conversations", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        assert broken.status_code == 401 and broken.headers["WWW-Authenticate"] == "Bearer", broken.text
        huge = client.post("/v1/themes/merge", content=b"x" * 50_000, headers=headers)
        assert huge.status_code == 401
    # With a valid key, the body is judged as before.
    judged = client.post(
        "/v1/ingest/conversations",
        content=b"{not json",
        headers={**auth(tokens["ingest"]), "Content-Type": "application/json"},
    )
    assert judged.status_code == 400
    assert client.get("/v1/health").status_code == 200  # the probes stay open

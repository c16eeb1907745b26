"""The API's description is what a dashboard developer reads: the OpenAPI schema declares how to
authenticate and every allowed value, /docs renders it without any CDN, and what the schema
refuses the API refuses."""

from __future__ import annotations

import re

import pytest

from tests.api_routes.conftest import auth


@pytest.fixture
def schema(client):  # type: ignore[no-untyped-def]
    response = client.get("/v1/openapi.json")  # public: it describes routes, never data
    assert response.status_code == 200
    return response.json()


def test_the_schema_declares_both_ways_to_send_a_key_on_every_protected_operation(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            names = {name for requirement in operation.get("security", []) for name in requirement}
            if path in ("/v1/health", "/v1/ready"):
                assert not names, (method, path)
            else:
                assert names == {"HTTPBearer", "APIKeyHeader"}, (method, path)


def test_filters_declare_their_allowed_values(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/v1/search"]["get"]["parameters"]}
    assert parameters["sentiment"]["items"]["enum"] == ["negative", "neutral", "positive"]
    assert "support" in parameters["stage"]["items"]["enum"] and "unknown" in parameters["stage"]["items"]["enum"]
    assert parameters["trajectory"]["items"]["enum"] == ["improved", "worsened", "steady"]
    assert parameters["channel"]["items"]["enum"] == ["chat", "email", "social", "call"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("sentiment=angry", "sentiment"),
        ("stage=shopping", "stage"),
        ("until=0.5", "until"),
        ("since=1700000000", "since"),
    ],
)
def test_a_value_the_schema_refuses_is_a_400_naming_the_parameter(client, tokens, query, names):
    response = client.get(f"/v1/search?{query}", headers=auth(tokens["read"]))
    assert response.status_code == 400
    assert names in response.json()["error"]["message"]


def test_dates_still_read_as_dates(client, tokens):
    for value in ("2026-03-01", "2026-03-01T09:00:00Z", "2026-03-01T09:00:00"):
        assert client.get(f"/v1/search?until={value}", headers=auth(tokens["read"])).status_code == 200


def test_docs_render_the_schema_from_this_server_alone(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert "/v1/openapi.json" in page.text
    for source in sources:
        assert client.get(source).status_code == 200, source

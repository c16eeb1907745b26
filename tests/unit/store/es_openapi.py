"""Checks request bodies against Elasticsearch's own request schema (the OpenAPI file in
../shared/elasticsearch, see its SOURCE.md for what it catches and what it cannot)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.conftest import SHARED_DATA

SPEC = SHARED_DATA.parent / "elasticsearch" / "elasticsearch-serverless-openapi.json"


@cache
def _spec() -> dict[str, Any]:
    return json.loads(Path(SPEC).read_text(encoding="utf-8"))


@cache
def _validator(endpoint: str) -> jsonschema.Draft7Validator:
    """``endpoint``: a named request body ("search", "indices.put_index_template") or "METHOD /path"
    for endpoints whose body the file describes inline ("POST /_aliases")."""
    spec = _spec()
    if " " in endpoint:
        method, path = endpoint.split(" ", 1)
        request_body = spec["paths"][path][method.lower()]["requestBody"]
    else:
        request_body = spec["components"]["requestBodies"][endpoint]
    schema = request_body["content"]["application/json"]["schema"]
    # The request schema refers to "#/components/..."; carrying the components along resolves them.
    return jsonschema.Draft7Validator(_any_of({**schema, "components": spec["components"]}))


def _any_of(node: Any) -> Any:
    """The generated schema writes unions as ``oneOf`` whose branches overlap (a string is both a
    field name and a nullable string; a filter is both one query and a list of one), so JSON
    Schema's exactly-one rule rejects valid bodies. Elasticsearch reads them as any-of."""
    if isinstance(node, dict):
        return {("anyOf" if key == "oneOf" else key): _any_of(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_any_of(value) for value in node]
    return node


def problems(endpoint: str, body: dict[str, Any]) -> list[str]:
    """Every way ``body`` breaks the request schema of ``endpoint`` (empty when it fits)."""
    errors = sorted(_validator(endpoint).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}" for e in errors]

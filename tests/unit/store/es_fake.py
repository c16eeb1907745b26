"""A stand-in for the Elasticsearch client that checks every request body the store sends against
Elasticsearch's request schema (``es_openapi.py``) and answers just enough to let each store method
run: documents by id are kept (get, mget, index, bulk), searches match nothing and aggregations come
back empty in the shape their request asked for. It tests request bodies and the store's handling of
responses; it is not the contract run (that needs a real cluster: tests/contract)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.unit.store.es_openapi import problems


class BodyError(AssertionError):
    pass


def _empty_aggs(aggs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, spec in aggs.items():
        kind = next(k for k in spec if k not in ("aggs", "aggregations", "meta"))
        if kind in ("terms", "date_histogram", "histogram"):
            result[name] = {"buckets": []}
        elif kind == "filters":  # named filters: one bucket each, by name
            empty = {"doc_count": 0, **_empty_aggs(spec.get("aggs", {}))}
            result[name] = {"buckets": {key: dict(empty) for key in spec["filters"]["filters"]}}
        elif kind in ("filter", "filters", "missing", "global"):
            result[name] = {"doc_count": 0, **_empty_aggs(spec.get("aggs", {}))}
        elif kind == "top_hits":
            result[name] = {"hits": {"hits": []}}
        elif kind in ("cardinality", "value_count"):
            result[name] = {"value": 0}
        else:
            result[name] = {"value": None}
    return result


class _Indices:
    def __init__(self, fake: FakeElasticsearch) -> None:
        self.fake = fake
        self.aliases: set[str] = set()

    def put_index_template(self, *, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.fake.check("indices.put_index_template", body)
        return {"acknowledged": True}

    def exists_alias(self, *, name: str) -> bool:
        return name in self.aliases

    def exists(self, *, index: str) -> bool:
        return False

    def create(self, *, index: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if body is not None:
            self.fake.check("PUT /{index}", body)
            self.aliases.update((body.get("aliases") or {}).keys())
        return {"acknowledged": True}

    def get_alias(self, *, name: str) -> Any:
        return type("Response", (), {"body": {}})()

    def update_aliases(self, *, body: dict[str, Any]) -> dict[str, Any]:
        self.fake.check("POST /_aliases", body)
        return {"acknowledged": True}

    def refresh(self, *, index: Any) -> dict[str, Any]:
        self.fake.sent.append(("refresh", index))
        return {}


class FakeElasticsearch:
    def __init__(self) -> None:
        self.indices = _Indices(self)
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.seq = itertools.count()
        self.sent: list[tuple[str, Any]] = []

    def check(self, endpoint: str, body: Any) -> None:
        self.sent.append((endpoint, body))
        found = problems(endpoint, body)
        if found:
            raise BodyError(f"{endpoint}: {found}")

    # ------------------------------------------------------------ documents
    def _put(self, index: str, doc_id: str, source: dict[str, Any]) -> None:
        self.docs[(index, doc_id)] = {"_id": doc_id, "_source": source, "_seq_no": next(self.seq), "_primary_term": 1}

    def index(self, *, index: str, id: str, document: dict[str, Any], **options: Any) -> dict[str, Any]:
        self.check("index", document)
        self._put(index, id, document)
        return {"result": "created"}

    def mget(self, *, index: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        self.check("mget", body)
        docs = []
        for doc_id in body["ids"]:
            doc = self.docs.get((index, doc_id))
            docs.append({**doc, "found": True} if doc else {"_id": doc_id, "found": False})
        return {"docs": docs}

    def bulk(self, *, operations: list[dict[str, Any]], refresh: Any = False) -> dict[str, Any]:
        self.check("bulk", operations)
        items = []
        lines = iter(operations)
        for action in lines:
            op, meta = next(iter(action.items()))
            key = (meta["_index"], meta["_id"])
            if op == "delete":
                self.docs.pop(key, None)
            elif op == "update":
                change = next(lines)["doc"]
                if key not in self.docs:
                    items.append({op: {"status": 404, "error": {"type": "document_missing_exception", "reason": "x"}}})
                    continue
                self._put(*key, {**self.docs[key]["_source"], **change})
            else:
                source = next(lines)
                if self._conflicts(op, meta, key):
                    conflict = {"type": "version_conflict_engine_exception", "reason": "someone wrote first"}
                    items.append({op: {"status": 409, "error": conflict}})
                    continue
                self._put(*key, source)
            items.append({op: {"status": 200}})
        return {"errors": False, "items": items}

    def _conflicts(self, op: str, meta: dict[str, Any], key: tuple[str, str]) -> bool:
        """As Elasticsearch: ``create`` of an id that exists, or a write guarded by a sequence number
        that is no longer the document's."""
        if op == "create":
            return key in self.docs
        if "if_seq_no" in meta:
            return key not in self.docs or self.docs[key]["_seq_no"] != meta["if_seq_no"]
        return False

    def delete(self, *, index: str, id: str, **options: Any) -> dict[str, Any]:
        self.docs.pop((index, id), None)
        return {"result": "deleted"}

    # ------------------------------------------------------------ searches
    def search(self, *, body: dict[str, Any], index: str | None = None) -> dict[str, Any]:
        self.check("search", body)
        response: dict[str, Any] = {"hits": {"total": {"value": 0}, "hits": []}}
        if "aggs" in body or "aggregations" in body:
            response["aggregations"] = _empty_aggs(body.get("aggs") or body["aggregations"])
        return response

    def count(self, *, index: str, body: dict[str, Any]) -> dict[str, Any]:
        self.check("count", body)
        return {"count": 0}

    def open_point_in_time(self, *, index: str, keep_alive: str) -> dict[str, Any]:
        return {"id": "pit-1"}

    def close_point_in_time(self, *, id: str) -> dict[str, Any]:
        return {"succeeded": True}

    def update_by_query(self, *, index: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        self.check("POST /{index}/_update_by_query", body)
        return {"updated": 0}

    def reindex(self, *, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        self.check("POST /_reindex", body)
        return {"created": 0}

    def options(self, **options: Any) -> FakeElasticsearch:
        return self

    def close(self) -> None:
        pass

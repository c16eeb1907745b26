"""Hybrid search: one reciprocal-rank fusion for both stores and the API, and Elasticsearch's paid
``rrf`` retriever used only where the cluster's licence allows it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.store.es_fake import FakeElasticsearch
from vocmine.store.elastic.store import ElasticOptions, ElasticStore
from vocmine.store.fusion import RRF_K, reciprocal_rank_fusion
from vocmine.store.query import ConversationFilter


def test_fusion_adds_reciprocal_ranks_and_breaks_ties_by_id():
    fused = reciprocal_rank_fusion([[("a", ["refund"]), ("b", [])], [("b", ["seg b"]), ("c", ["seg c"])]])
    assert [cid for cid, _, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == round(1 / (RRF_K + 2) + 1 / (RRF_K + 1), 6)
    assert fused[0][2] == ["seg b"] and fused[1][2] == ["refund"]
    tie = reciprocal_rank_fusion([[("z", [])], [("y", [])]])
    assert [cid for cid, _, _ in tie] == ["y", "z"]  # same score: by id, so pages are stable


class _Licence:
    def __init__(self, kind: str | None) -> None:
        self.kind = kind

    def get(self) -> dict[str, Any]:
        if self.kind is None:
            raise AttributeError("no licence endpoint")  # what a server without GET /_license looks like here
        return {"license": {"type": self.kind, "status": "active"}}


class _Cluster(FakeElasticsearch):
    """A cluster on a licence; on a free one the rrf retriever is refused as Elasticsearch refuses it."""

    def __init__(self, licence: str | None) -> None:
        super().__init__()
        self.license = _Licence(licence)

    def search(self, *, body: dict[str, Any], index: str | None = None) -> dict[str, Any]:
        if "retriever" in body and self.license.kind not in ("enterprise", "trial"):
            from elasticsearch import ApiError

            raise ApiError(
                "current license is non-compliant for [Reciprocal Rank Fusion (RRF)]",
                meta=type("Meta", (), {"status": 403})(),
                body={},
            )
        return super().search(body=body, index=index)


def _store(licence: str | None) -> tuple[ElasticStore, _Cluster]:
    cluster = _Cluster(licence)
    return ElasticStore("http://localhost:9200", ElasticOptions(prefix="vmtest", dimensions=8), client=cluster), cluster


@pytest.mark.parametrize("licence", ["basic", None])
def test_a_free_cluster_gets_two_searches_fused_here(licence):
    store, cluster = _store(licence)
    assert store.hybrid_search("router keeps dropping", [0.1] * 8, ConversationFilter()) == []
    bodies = [body for endpoint, body in cluster.sent if endpoint == "search"]
    assert bodies and not any("retriever" in body for body in bodies)
    assert any("knn" in body for body in bodies) and any("query" in body for body in bodies)
    from elasticsearch import ApiError

    with pytest.raises(ApiError, match="non-compliant"):  # the retriever this store did not send
        cluster.search(body={"retriever": {"rrf": {"retrievers": []}}})


def test_an_enterprise_cluster_fuses_on_the_server_with_the_rrf_retriever():
    store, cluster = _store("enterprise")
    store.hybrid_search("router keeps dropping", [0.1] * 8, ConversationFilter())
    bodies = [body for endpoint, body in cluster.sent if endpoint == "search"]
    assert len(bodies) == 1 and "rrf" in bodies[0]["retriever"]

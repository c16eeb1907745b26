"""Hybrid search: the full-text and the semantic rankings of one query, fused by reciprocal rank.

One function for every store and the API: score = Σ 1 / (k + rank) over the rankings a
conversation appears in (k = 60, the usual constant and Elasticsearch's default), ties broken by id
so that pages are stable. Each ranking is read ``depth`` deep. Elasticsearch could fuse on the
server with its ``rrf`` retriever, but that needs an Enterprise licence (a free cluster answers
"current license is non-compliant for [Reciprocal Rank Fusion (RRF)]"), so the Elasticsearch store
uses it only where ``GET /_license`` allows it and fuses here otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vocmine.store.query import ConversationFilter, SearchQuery

if TYPE_CHECKING:
    from vocmine.store.protocol import Store

RRF_K = 60
FUSION_DEPTH = 200  # how deep each ranking is read before fusing

# (conversation id, fused score, why it matched: highlights and the best segment's text), best first
FusedHit = tuple[str, float, list[str]]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[str, list[str]]]], k: int = RRF_K) -> list[FusedHit]:
    """Fuse rankings of (conversation id, reasons), each best first."""
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    for ranking in rankings:
        for rank, (conversation_id, reasons) in enumerate(ranking, start=1):
            scores[conversation_id] = scores.get(conversation_id, 0.0) + 1 / (k + rank)
            why.setdefault(conversation_id, []).extend(reasons)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(cid, round(score, 6), why[cid]) for cid, score in ranked]


def fused_search(
    store: Store, text: str, vector: Any, filter: ConversationFilter, depth: int = FUSION_DEPTH
) -> list[FusedHit]:
    """Run both searches on ``store`` and fuse them."""
    text_hits = store.search(SearchQuery(text=text, filter=filter, limit=depth)).hits
    semantic = store.semantic_search(vector, filter, limit=depth)
    return reciprocal_rank_fusion(
        [
            [(hit.conversation.id, list(hit.highlights)) for hit in text_hits],
            [(cid, [segment]) for cid, _, segment in semantic],
        ]
    )

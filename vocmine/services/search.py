"""Search by meaning (``semantic``: cosine over the stored segment vectors) or by words and meaning
together (``hybrid``: reciprocal rank fusion), one page at a time: what the API's ``/v1/search`` and
the console's search page both answer with. Text search is the store's own (``Store.search``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vocmine.errors import ConfigError
from vocmine.schema import Conversation
from vocmine.store.cursor import decode_cursor, encode_cursor
from vocmine.store.fusion import FUSION_DEPTH
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

Mode = Literal["text", "semantic", "hybrid"]


@dataclass(frozen=True)
class MeaningPage:
    hits: list[tuple[Conversation, float, list[str]]]  # conversation, score, why (the matching passages)
    total: int
    total_relation: Literal["eq", "gte"]
    next_cursor: str | None


def page_offset(cursor: str | None) -> int:
    """The position a semantic or hybrid page starts at, from its cursor."""
    if not cursor:
        return 0
    value = decode_cursor(cursor, 1)[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError("cursor does not belong to this query", hint="start again without a cursor")
    return value


def search_by_meaning(
    store: Store,
    vector: Any,
    text: str,
    mode: Literal["semantic", "hybrid"],
    filter: ConversationFilter,
    limit: int,
    cursor: str | None,
) -> MeaningPage:
    """One page ranked by meaning (``vector`` is the query text's embedding). Ranking by meaning has
    no cut-off, so a semantic total is known only up to this page, plus at least one more when there is
    a next page (a lower bound); a hybrid total is the fused list's length."""
    offset = page_offset(cursor)
    fused: list[tuple[str, float, list[str]]] = []
    if mode == "semantic":
        ranked = store.semantic_search(vector, filter, limit=limit + 1, offset=offset)
        scored = [(cid, score, [passage]) for cid, score, passage in ranked]
    else:
        fused = store.hybrid_search(text, vector, filter, depth=FUSION_DEPTH)
        scored = fused[offset : offset + limit + 1]
    more = len(scored) > limit
    scored = scored[:limit]
    if mode == "hybrid":
        total, relation = len(fused), "eq"
    else:
        total, relation = offset + len(scored) + (1 if more else 0), ("gte" if more else "eq")
    found = store.get_conversations([cid for cid, _, _ in scored])
    hits = [(found[cid], score, why) for cid, score, why in scored if cid in found]
    next_cursor = encode_cursor([offset + limit]) if more else None
    return MeaningPage(hits, total, relation, next_cursor)  # type: ignore[arg-type]

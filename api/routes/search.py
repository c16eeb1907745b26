"""Search over what customers said: full text, semantic (by meaning), or hybrid (both, fused by
reciprocal rank), with filters, highlights, facets and cursor paging."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from vocmine.errors import ConfigError
from vocmine.store.cursor import decode_cursor, encode_cursor
from vocmine.store.fusion import FUSION_DEPTH
from vocmine.store.query import SearchQuery
from vocmine_api.deps import (
    FilterDep,
    SettingsDep,
    StoreDep,
    check_page_size,
    require,
)
from vocmine_api.errors import ApiError
from vocmine_api.routes.conversations import ERRORS
from vocmine_api.schemas import ErrorResponse, SearchHitView, SearchResults

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Depends(require("read"))])

Mode = Literal["text", "semantic", "hybrid"]


@router.get(
    "/search",
    response_model=SearchResults,
    responses={**ERRORS, 400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
def search(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    filter: FilterDep,
    q: Annotated[str | None, Query(description='words, "phrases", OR, -excluded, prefix*', max_length=1000)] = None,
    mode: Annotated[Mode, Query(description="text, semantic (by meaning) or hybrid (both, fused)")] = "text",
    facets: Annotated[bool, Query(description="add counts by channel, sentiment, stage and signal")] = False,
    limit: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> SearchResults:
    """Conversations matching the query (or, in text mode without ``q``, the newest matching the filters)."""
    check_page_size(limit, settings)
    text_query = SearchQuery(text=q or None, filter=filter, limit=limit, cursor=cursor if mode == "text" else None)
    counts = None
    if facets:
        counts = store.facet_counts(text_query if mode != "semantic" else SearchQuery(filter=filter))
    if mode == "text":
        page = store.search(text_query)
        hits = [SearchHitView(conversation=h.conversation, score=h.score, highlights=h.highlights) for h in page.hits]
        return SearchResults(
            total=page.total,
            total_relation=page.total_relation,
            hits=hits,
            next_cursor=page.next_cursor,
            facets=counts,
        )
    if not q or not q.strip():
        raise ApiError(400, f"{mode} search needs a query", "pass q, or use mode=text to browse by filters")
    embed = request.app.state.embed
    if embed is None:
        raise ApiError(
            503, "semantic search needs the encoder, which this server did not load",
            "start the API with VOCMINE_API_LOAD_MODELS=true",
        )  # fmt: skip
    offset = _offset(cursor) if cursor else 0
    vector = embed([q])[0]
    if mode == "semantic":
        ranked = store.semantic_search(vector, filter, limit=limit + 1, offset=offset)
        scored = [(cid, score, [text]) for cid, score, text in ranked]
    else:
        fused = store.hybrid_search(q, vector, filter, depth=FUSION_DEPTH)
        scored = fused[offset : offset + limit + 1]
    more = len(scored) > limit
    scored = scored[:limit]
    total, relation = (len(fused), "eq") if mode == "hybrid" else _semantic_total(offset, len(scored), more)
    found = store.get_conversations([cid for cid, _, _ in scored])
    hits = [
        SearchHitView(conversation=found[cid], score=score, highlights=why)
        for cid, score, why in scored
        if cid in found
    ]
    return SearchResults(
        total=total,
        total_relation=relation,
        hits=hits,
        next_cursor=encode_cursor([offset + limit]) if more else None,
        facets=counts,
    )


def _semantic_total(offset: int, on_page: int, more: bool) -> tuple[int, Literal["eq", "gte"]]:
    """Ranking by meaning has no cut-off: every analysed conversation matching the filters is a hit
    somewhere down the list. Known without ranking them all: the hits up to this page, and at least
    one more when there is a next page (then the total is a lower bound)."""
    return offset + on_page + (1 if more else 0), ("gte" if more else "eq")


def _offset(cursor: str) -> int:
    """The position a semantic or hybrid page starts at, from its cursor."""
    value = decode_cursor(cursor, 1)[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError("cursor does not belong to this query", hint="start again without a cursor")
    return value

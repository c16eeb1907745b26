"""Search over what customers said: full text, semantic (by meaning), or hybrid (both, fused by
reciprocal rank), with filters, highlights, facets and cursor paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from vocmine.services.search import Mode, search_by_meaning
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
    found = search_by_meaning(store, embed([q])[0], q, mode, filter, limit, cursor)
    return SearchResults(
        total=found.total,
        total_relation=found.total_relation,
        hits=[SearchHitView(conversation=c, score=score, highlights=why) for c, score, why in found.hits],
        next_cursor=found.next_cursor,
        facets=counts,
    )

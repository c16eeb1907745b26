"""Full-text search over what customers said, with filters, highlights and cursor paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import conversation_filter, get_settings, get_store, require
from api.errors import ApiError
from api.routes.conversations import ERRORS
from api.schemas import SearchHitView, SearchResults
from vocmine.settings import Settings
from vocmine.store.base import ConversationFilter, SearchQuery, Store

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Depends(require("read"))])


@router.get("/search", response_model=SearchResults, responses={**ERRORS, 400: {"model": ERRORS[401]["model"]}})
def search(
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    filter: Annotated[ConversationFilter, Depends(conversation_filter)],
    q: Annotated[str | None, Query(description='words, "phrases", OR, -excluded, prefix*', max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> SearchResults:
    """Conversations matching the query (or, without ``q``, the newest matching the filters)."""
    if limit > settings.api_max_page_size:
        raise ApiError(
            400, f"limit {limit} is over the page size limit {settings.api_max_page_size}", "page with cursor"
        )
    page = store.search(SearchQuery(text=q or None, filter=filter, limit=limit, cursor=cursor))
    return SearchResults(
        total=page.total,
        hits=[SearchHitView(conversation=h.conversation, score=h.score, highlights=h.highlights) for h in page.hits],
        next_cursor=page.next_cursor,
    )

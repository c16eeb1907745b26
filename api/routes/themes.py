"""Themes: list with counts and sentiment mix, one theme with examples, rename and merge (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from vocmine.analysis.themes.levels import at_level, reporting_map, subthemes_of
from vocmine.schema import ApiKey, Theme
from vocmine.services.insights import level_view
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, SearchQuery, ThemeAggregate
from vocmine_api.deps import FilterDep, Level, StoreDep, require
from vocmine_api.errors import ApiError
from vocmine_api.routes.conversations import ERRORS
from vocmine_api.schemas import MergeRequest, RenameRequest, ThemeList, ThemeSummary, Verbatim

router = APIRouter(prefix="/v1", tags=["themes"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ERRORS[401]["model"]},
    404: {"model": ERRORS[401]["model"]},
}


def _summary(
    theme: Theme, a: ThemeAggregate | None, verbatims: list[Verbatim] | None = None, subthemes: list[str] | None = None
) -> ThemeSummary:
    return ThemeSummary(
        theme=theme,
        conversations=a.conversations if a else 0,
        segments=a.segments if a else 0,
        mean_sentiment=round(a.sentiment_sum / a.segments, 4) if a and a.segments else None,
        negative_share=round(a.negative_segments / a.segments, 4) if a and a.segments else None,
        examples=[v.text for v in verbatims or []],
        verbatims=verbatims or [],
        subthemes=subthemes or [],
    )


@router.get("/themes", response_model=ThemeList, responses=NOT_FOUND, dependencies=[Depends(require("read"))])
def list_themes(
    store: StoreDep,
    filter: FilterDep,
    level: Level = "theme",
    include_inactive: Annotated[bool, Query(description="also retired and merged themes")] = False,
    limit: Annotated[int | None, Query(ge=1, description="the most-mentioned themes only, this many")] = None,
) -> ThemeList:
    """Themes of the current model at one level (top-level themes by default, each with its
    sub-themes' ids) with counts and sentiment over the filtered conversations, most mentioned
    first; ``total`` counts them all when ``limit`` cuts the list."""
    catalog = store.list_themes()
    mapping = reporting_map(catalog, level)
    counts = {a.theme_id: a for a in store.theme_aggregates(filter, theme_map=mapping)}
    children = subthemes_of(catalog)
    themes = [t for t in at_level(catalog, level) if include_inactive or t.status == "active"]
    summaries = [_summary(t, counts.get(t.id), subthemes=children.get(t.id, [])) for t in themes]
    summaries.sort(key=lambda s: (-s.conversations, s.theme.id))
    return ThemeList(version=store.themes_version(), total=len(summaries), themes=summaries[:limit])


def _theme(store: Store, theme_id: str) -> Theme:
    for theme in store.list_themes():
        if theme.id == theme_id:
            return theme
    raise ApiError(404, f"no theme {theme_id!r}", "take an id from /v1/themes")


@router.get(
    "/themes/{theme_id}", response_model=ThemeSummary, responses=NOT_FOUND, dependencies=[Depends(require("read"))]
)
def get_theme(theme_id: str, store: StoreDep) -> ThemeSummary:
    """One theme with its counts and up to five distinct verbatims from recent conversations, each
    with its conversation and segment id."""
    theme = _theme(store, theme_id)
    view = level_view(store, theme.level)
    scope = view.scope(ConversationFilter(themes=[theme_id]))
    counts = {a.theme_id: a for a in store.theme_aggregates(scope, theme_map=view.mapping)}
    page = store.search(SearchQuery(filter=scope, limit=25))
    analyses = store.get_analyses([h.conversation.id for h in page.hits])
    verbatims: dict[str, Verbatim] = {}  # by text: the same sentence from two customers is shown once
    for hit in page.hits:
        analysis = analyses.get(hit.conversation.id)
        for segment in analysis.segments if analysis else []:
            if segment.theme_id in scope.themes and len(verbatims) < 5:
                verbatims.setdefault(
                    segment.text,
                    Verbatim(conversation_id=hit.conversation.id, segment_id=segment.id, text=segment.text),
                )
    return _summary(theme, counts.get(theme_id), list(verbatims.values()), view.children.get(theme_id, []))


@router.post("/themes/{theme_id}/rename", response_model=Theme, responses=NOT_FOUND)
def rename_theme(
    theme_id: str,
    body: RenameRequest,
    store: StoreDep,
    key: Annotated[ApiKey, Depends(require("admin"))],
) -> Theme:
    """Name a theme; the name stays with its id across re-fits."""
    return store.rename_theme(theme_id, body.name, actor=f"key:{key.id}")


@router.post("/themes/merge", response_model=Theme, responses=NOT_FOUND)
def merge_themes(body: MergeRequest, store: StoreDep, key: Annotated[ApiKey, Depends(require("admin"))]) -> Theme:
    """Fold themes into another; their segments move now and later fits keep the merge."""
    return store.merge_themes(body.sources, body.into, actor=f"key:{key.id}")

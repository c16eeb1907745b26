"""Response bodies (the OpenAPI schema is generated from these, and the fuzz test holds every
response to it)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from vocmine.schema import Conversation, ConversationAnalysis, Theme


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str  # "ready" or "not ready"
    checks: dict[str, str]  # component -> "ok" or what is wrong


class ConversationView(BaseModel):
    conversation: Conversation
    analysis: ConversationAnalysis | None
    theme_names: dict[str, str]  # theme id -> name, for the themes of its segments


class SearchHitView(BaseModel):
    conversation: Conversation
    score: float | None
    highlights: list[str]


class SearchResults(BaseModel):
    total: int  # every match for text search; the fused list's length for hybrid; for semantic, see total_relation
    # "gte": total is a lower bound. The embedded store counts a common word's matches only as far
    # as it ranked them (the rest are counted as later pages reach them); facets count every match.
    # Semantic search ranks every analysed conversation, so it knows the hits up to this page and,
    # when there is a next page, at least one more ("gte"); on its last page the total is exact.
    total_relation: Literal["eq", "gte"] = "eq"
    hits: list[SearchHitView]
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None = None


class Verbatim(BaseModel):
    """A customer's own words in a theme, with where to read the rest of the conversation."""

    conversation_id: str
    segment_id: str
    text: str


class ThemeSummary(BaseModel):
    theme: Theme
    conversations: int
    segments: int
    mean_sentiment: float | None
    negative_share: float | None
    examples: list[str] = []  # distinct texts of ``verbatims``
    verbatims: list[Verbatim] = []
    subthemes: list[str] = []  # a top-level theme's sub-themes (ids)


class ThemeList(BaseModel):
    version: str | None
    total: int  # themes at the level asked for, before ``limit``
    themes: list[ThemeSummary]


class RenameRequest(BaseModel):
    name: str


class MergeRequest(BaseModel):
    sources: list[str]
    into: str


class WindowView(BaseModel):
    baseline_start: date
    recent_start: date
    end: date

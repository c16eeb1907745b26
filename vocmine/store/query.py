"""The store's query types and what its queries answer, shared by both backends and the layers above.

Queries are typed objects rather than backend strings so that both backends answer the same
question the same way, and one contract test suite can hold them to it. New kinds of question
extend the protocol (``protocol.py``) with new methods and new query objects beside these, not by
overloading them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field

from vocmine.schema import (
    UNSUPPORTED_LANGUAGE,
    Channel,
    Conversation,
    ReviewState,
    ReviewStatus,
    SentimentLabel,
    StageName,
    Trajectory,
    stable_hash,
)


class UpsertOutcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class ConversationFilter(BaseModel):
    """Conjunction of the given conditions; a list means "any of these"."""

    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    agent_ids: list[str] = Field(default_factory=list)
    team_ids: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    customer_ids: list[str] = Field(default_factory=list)
    since: datetime | None = None  # started_at >= since
    until: datetime | None = None  # started_at < until
    # Conditions on the analysis; a conversation not analysed yet matches none of them.
    sentiments: list[SentimentLabel] = Field(default_factory=list)  # conversation-level label
    stages: list[StageName] = Field(default_factory=list)  # journey stage, including "unknown"
    trajectories: list[Trajectory] = Field(default_factory=list)
    signals: list[str] = Field(default_factory=list)  # raised any of these signals
    min_severity: int | None = Field(default=None, ge=1, le=5)  # a flag at least this severe
    themes: list[str] = Field(default_factory=list)  # a customer segment in any of these themes


# Filter lists that match a conversation field of the same meaning: filter name → field name, the
# same in every backend (the SQLite column, the Elasticsearch field).
CONVERSATION_FIELD_FILTERS = {
    "channels": "channel",
    "sources": "source",
    "agent_ids": "agent_id",
    "team_ids": "team_id",
    "brands": "brand",
    "products": "product",
    "languages": "language",
    "customer_ids": "customer_id",
}


# Breakdown name → the field that holds its value, the same in every backend.
BREAKDOWN_FIELDS: dict[str, str] = {
    "channel": "channel",
    "stage": "stage",
    "brand": "brand",
    "product": "product",
    "agent": "agent_id",
    "team": "team_id",
}


class SearchQuery(BaseModel):
    """Full-text search over the customer's words (``text``), or – without text – the newest
    conversations matching the filter. ``cursor`` is the ``next_cursor`` of the previous page."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    filter: ConversationFilter = Field(default_factory=ConversationFilter)
    limit: int = Field(default=20, ge=1, le=1000)
    cursor: str | None = None


class SearchHit(BaseModel):
    conversation: Conversation
    score: float | None = None  # relevance, higher is better; None when browsing without text
    highlights: list[str] = Field(default_factory=list)  # matched passages, terms inside <mark></mark>


class SearchPage(BaseModel):
    hits: list[SearchHit]
    total: int  # all matches, not only this page; a lower bound when total_relation is "gte"
    total_relation: Literal["eq", "gte"] = "eq"
    next_cursor: str | None = None


class AnalysisStats(BaseModel):
    """What analysis has said about the conversations matching a filter."""

    conversations: int  # matching the filter
    analysed: int  # with an analysis of their current content
    stale: int  # analysed, but the conversation changed since
    segments: int
    by_sentiment: dict[str, int]
    by_stage: dict[str, int]
    by_trajectory: dict[str, int]
    by_signal: dict[str, int]
    model_versions: dict[str, list[str]]  # every version of every model found in the results

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unsupported_language(self) -> int:
        """Analysed conversations in a language the models do not read: no sentiment, stage or learned
        flags for them (``vocmine.analysis.pipeline``), so they are counted here instead."""
        return self.by_stage.get(UNSUPPORTED_LANGUAGE, 0)


Interval = Literal["day", "week", "month"]
Breakdown = Literal["channel", "stage", "brand", "product", "agent", "team"]
AgentGrouping = Literal["agent", "team"]  # what agent aggregates are keyed by


class ThemeAggregate(BaseModel):
    """What the store counts for one theme (in one time bucket and breakdown group when asked).
    Sentiment sums run over the theme's segments; conversation counts over conversations with at
    least one segment in the theme; flags over those conversations."""

    theme_id: str
    bucket: str | None = None  # ISO date of the bucket's first day (weeks start on Monday)
    group: str | None = None  # the breakdown value (None when not broken down, or missing)
    conversations: int
    segments: int
    sentiment_sum: float
    negative_segments: int
    flagged_conversations: int  # with any flag
    severity_sum: int  # sum over conversations of their most severe flag (0 when none)


class AgentAggregate(BaseModel):
    """Per agent (or team) and bucket: what coaching views are made of."""

    key: str  # the agent or team id
    bucket: str | None = None
    conversations: int
    sentiment_sum: float  # over conversations with a sentiment
    with_sentiment: int
    with_trajectory: int  # two or more customer turns
    improved: int
    worsened: int
    flagged: int


class ConversationTotal(BaseModel):
    """Analysed conversations per bucket and group: the denominators of theme shares."""

    bucket: str | None = None
    group: str | None = None
    conversations: int


class ScoreTotal(BaseModel):
    """Per bucket, what the overview's headline figures are made of: every conversation matching the
    filter (the volume), the conversation-level sentiment labels of the analysed ones, and the survey
    answers (NPS promoters score 9–10, detractors 0–6; CSAT as a count and a sum, so buckets add up)."""

    bucket: str | None = None  # ISO date of the bucket's first day (weeks start on Monday)
    conversations: int  # matching the filter, analysed or not
    analysed: int  # with an analysis: the denominator of the sentiment shares
    negative: int
    neutral: int
    positive: int
    nps_responses: int
    promoters: int
    detractors: int
    csat_responses: int
    csat_sum: float


class SurveyThemes(BaseModel):
    """One analysed conversation's survey scores and the themes it touched, for key drivers."""

    conversation_id: str
    nps: int | None
    csat: float | None
    themes: list[str]


@dataclass(frozen=True)
class SurveyTable:
    """Analysed conversations with an NPS or CSAT score, as arrays for key drivers: one row per
    conversation (NaN where that score was not given) and which themes each touched."""

    nps: np.ndarray  # float64
    csat: np.ndarray  # float64
    themes: list[str]  # the columns of ``member``, sorted
    member: np.ndarray  # bool, conversations × themes

    @classmethod
    def from_rows(cls, rows: Iterable[SurveyThemes]) -> SurveyTable:
        rows = list(rows)
        themes = sorted({t for r in rows for t in r.themes})
        index = {t: i for i, t in enumerate(themes)}
        member = np.zeros((len(rows), len(themes)), dtype=bool)
        for row, r in enumerate(rows):
            member[row, [index[t] for t in r.themes]] = True
        return cls(
            nps=np.array([np.nan if r.nps is None else r.nps for r in rows], dtype=np.float64),
            csat=np.array([np.nan if r.csat is None else r.csat for r in rows], dtype=np.float64),
            themes=themes,
            member=member,
        )


class ReviewQuery(BaseModel):
    """The review queue: analysed conversations with a flag at least ``min_severity``, most severe
    first, then newest."""

    model_config = ConfigDict(extra="forbid")

    filter: ConversationFilter = Field(default_factory=ConversationFilter)
    statuses: list[ReviewStatus] = Field(default_factory=list)
    assignee: str | None = None
    min_severity: int = Field(default=1, ge=0, le=5)
    limit: int = Field(default=20, ge=1, le=1000)
    cursor: str | None = None


class ReviewPage(BaseModel):
    items: list[ReviewState]
    total: int
    next_cursor: str | None = None


class StoreStats(BaseModel):
    conversations: int
    turns: int
    customer_turns: int
    by_channel: dict[str, int]
    by_source: dict[str, int]
    by_language: dict[str, int]
    with_survey: int
    first_started_at: datetime | None
    last_started_at: datetime | None


def versions_key(model_versions: dict[str, str]) -> str:
    """One short key for a set of model versions: analyses made under another key are re-run."""
    return stable_hash(json.dumps(model_versions, sort_keys=True), length=16)


def mapped_themes(themes: Iterable[str], theme_map: Mapping[str, str] | None) -> list[str]:
    """A conversation's themes as reported under ``theme_map`` (``Store.theme_aggregates``): each
    mapped id once, unmapped ones left out; unchanged without a map."""
    if theme_map is None:
        return sorted(set(themes))
    return sorted({theme_map[t] for t in themes if t in theme_map})


def frozen_map(theme_map: Mapping[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    """A theme map as a hashable, order-free key (for caches)."""
    return None if theme_map is None else tuple(sorted(theme_map.items()))

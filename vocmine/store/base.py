"""The Store protocol and its query types, shared by the SQLite and Elasticsearch backends.

Queries are typed objects rather than backend strings so that both backends answer the same
question the same way, and one contract test suite can hold them to it. The surface is
upserts, fetch by id, full-text search with filters, cursor paging and stats, and the analysis
results (per conversation and per segment, with segment embeddings); later query types (semantic
kNN, time-bucketed aggregations, review state) extend ``Store`` with new methods and new query
objects beside these, not by overloading them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vocmine.errors import ConfigError, ConflictError
from vocmine.schema import (
    REVIEW_TRANSITIONS,
    AlertRule,
    ApiKey,
    Channel,
    Conversation,
    ConversationAnalysis,
    LabelCorrection,
    ReviewState,
    ReviewStatus,
    SentimentLabel,
    Theme,
    Trajectory,
    stable_hash,
    utcnow,
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
    stages: list[str] = Field(default_factory=list)  # journey stage, including "unknown"
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


Interval = Literal["day", "week", "month"]
Breakdown = Literal["channel", "stage", "brand", "product", "agent", "team"]


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


@runtime_checkable
class Store(Protocol):
    def upsert_conversations(self, conversations: Sequence[Conversation]) -> list[UpsertOutcome]:
        """Insert or replace by id, atomically for the batch; unchanged content is left alone."""

    def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, Conversation]: ...

    def conversation_ids_for_turn_keys(self, keys: Sequence[str]) -> dict[str, str]:
        """Which stored conversation holds each message key (for joining replies across runs)."""

    def search(self, query: SearchQuery) -> SearchPage: ...

    def semantic_search(
        self, vector: Any, filter: ConversationFilter | None = None, limit: int = 20, offset: int = 0
    ) -> list[tuple[str, float, str]]:
        """(conversation id, cosine of its best segment, that segment's text), best first."""

    def facet_counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts by channel, sentiment, stage and signal over everything the query matches."""

    def iter_conversations(self, filter: ConversationFilter | None = None) -> Iterator[Conversation]: ...

    def stats(self, filter: ConversationFilter | None = None) -> StoreStats: ...

    def latest_start(self, filter: ConversationFilter | None = None) -> datetime | None:
        """When the newest matching conversation started (what insight windows end at by default)."""

    def write_analyses(self, analyses: Sequence[ConversationAnalysis], vectors: Sequence[Any]) -> None:
        """Replace each conversation's analysis, segments and segment embeddings (``vectors[i]`` is a
        float32 matrix with one row per segment of ``analyses[i]``, or None), atomically for the batch."""

    def get_analyses(self, conversation_ids: Iterable[str]) -> dict[str, ConversationAnalysis]: ...

    def iter_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        """Conversations with no analysis, an analysis of older content, or one made by other models."""

    def count_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> int: ...

    def iter_segment_vectors(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], Any]]:
        """(segment ids, float32 matrix) in batches, for themes and semantic search."""

    def get_segment_vectors(self, segment_ids: Sequence[str]) -> dict[str, Any]:
        """Each found segment's embedding (float32 vector) by id: what copying a store needs."""

    def analysis_stats(self, filter: ConversationFilter | None = None) -> AnalysisStats: ...

    # Themes (catalog in the store, so every API worker serves the same names and merges).
    def iter_segment_texts(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], list[str], Any]]:
        """(segment ids, texts, float32 matrix) in batches: what a theme fit reads."""

    def assign_themes(self, assignments: Iterable[tuple[str, str | None]]) -> int:
        """Set each segment's theme (segment id, theme id or None); returns how many were found."""

    def replace_themes(self, themes: Sequence[Theme], version: str) -> None:
        """Write the catalog of a fit (every theme, active or not) and make ``version`` current."""

    def list_themes(self) -> list[Theme]: ...

    def themes_version(self) -> str | None: ...

    def rename_theme(self, theme_id: str, name: str, actor: str) -> Theme: ...

    def merge_themes(self, sources: Sequence[str], target: str, actor: str) -> Theme:
        """Fold ``sources`` into ``target``: their segments move, the ids redirect from now on."""

    def theme_aggregates(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
    ) -> list[ThemeAggregate]: ...

    def conversation_totals(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
    ) -> list[ConversationTotal]: ...

    def agent_aggregates(
        self, by: Literal["agent", "team"], filter: ConversationFilter | None = None, interval: Interval | None = None
    ) -> list[AgentAggregate]: ...

    def iter_survey_themes(self, filter: ConversationFilter | None = None) -> Iterator[SurveyThemes]:
        """Analysed conversations with an NPS or CSAT score, with their themes."""

    def survey_table(self, filter: ConversationFilter | None = None) -> SurveyTable:
        """The same conversations as ``iter_survey_themes``, as arrays (what key drivers read)."""

    # API keys (the secret is never stored, only its hash: vocmine/keys.py).
    def add_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None: ...

    def list_api_keys(self) -> list[ApiKey]: ...

    def revoke_api_key(self, key_id: str) -> ApiKey: ...

    # Review queue (state, notes, label corrections as feedback, audit trail).
    def review_queue(self, query: ReviewQuery) -> ReviewPage: ...

    def get_review(self, conversation_id: str) -> ReviewState: ...

    def update_review(
        self,
        conversation_id: str,
        actor: str,
        *,
        status: str | None = None,
        assignee: str | None = None,
        unassign: bool = False,
        loop_closed: bool | None = None,
        expected_revision: int | None = None,
    ) -> ReviewState:
        """Apply the given changes; ConflictError on a stale ``expected_revision`` or a status move
        that ``REVIEW_TRANSITIONS`` does not allow."""

    def add_review_note(self, conversation_id: str, actor: str, text: str) -> ReviewState: ...

    def add_label_correction(self, conversation_id: str, actor: str, correction: LabelCorrection) -> ReviewState: ...

    def review_events(self, conversation_id: str | None = None) -> list[dict[str, Any]]: ...

    def iter_label_feedback(self) -> list[tuple[str, LabelCorrection]]: ...

    def enqueue_review(self, conversation_id: str, actor: str, reason: str) -> bool: ...

    # Alerts.
    def save_alert_rule(self, rule: AlertRule) -> None: ...

    def list_alert_rules(self) -> list[AlertRule]: ...

    def delete_alert_rule(self, rule_id: str) -> None: ...

    def record_delivery(
        self, rule_id: str, conversation_id: str, status: str, attempts: int, error: str | None
    ) -> None: ...

    def list_deliveries(self, rule_id: str | None = None) -> list[dict[str, Any]]: ...

    def save_upload_job(self, job: dict[str, Any]) -> None:
        """Create or replace an upload job's record (a JSON object with an ``id``), so that every
        API worker can answer for a job whichever one runs it."""

    def get_upload_job(self, job_id: str) -> dict[str, Any] | None: ...

    def prepare_serving(self) -> None:
        """Get read paths ready for a long-running server (the embedded store builds in-memory
        aggregation columns; Elasticsearch has nothing to do). Results never depend on it."""

    def close(self) -> None: ...


def review_changes(
    current: ReviewState,
    *,
    status: str | None,
    assignee: str | None,
    unassign: bool,
    loop_closed: bool | None,
    expected_revision: int | None,
) -> dict[str, Any]:
    """What ``update_review`` changes (field → new value, ``loop_closed_at`` as a datetime), the same
    rules in every backend: ConflictError on a stale revision or a move REVIEW_TRANSITIONS forbids."""
    if expected_revision is not None and expected_revision != current.revision:
        raise ConflictError(
            f"the review of {current.conversation_id} changed since revision {expected_revision} "
            f"(now {current.revision})",
            hint="reload it and apply your change again",
        )
    changes: dict[str, Any] = {}
    if status is not None and status != current.status:
        if status not in REVIEW_TRANSITIONS[current.status]:
            allowed = ", ".join(sorted(REVIEW_TRANSITIONS[current.status]))
            raise ConflictError(f"a {current.status} review cannot become {status}", hint=f"from here: {allowed}")
        changes["status"] = status
    if unassign and current.assignee is not None:
        changes["assignee"] = None
    elif assignee is not None and assignee != current.assignee:
        changes["assignee"] = assignee
    if loop_closed is not None and loop_closed != current.loop_closed:
        changes["loop_closed"] = loop_closed
        changes["loop_closed_at"] = utcnow() if loop_closed else None
    return changes


def versions_key(model_versions: dict[str, str]) -> str:
    """One short key for a set of model versions: analyses made under another key are re-run."""
    return stable_hash(json.dumps(model_versions, sort_keys=True), length=16)


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError("malformed cursor", hint="pass the next_cursor value of the previous page unchanged") from exc
    if not isinstance(values, list) or len(values) != length:
        raise ConfigError("cursor does not belong to this query", hint="start again without a cursor")
    return values


def sqlite_path(url: str) -> str | None:
    """The file a sqlite:///path URL (or a bare path) names; None for other store URLs."""
    if url.startswith("sqlite:////"):
        return url.removeprefix("sqlite://").removeprefix("/")
    if url.startswith("sqlite://"):
        return url.removeprefix("sqlite:///")
    return None if "://" in url else url


def open_store(url: str) -> Store:
    """The store a URL names: sqlite:///path (or a bare file path) for the embedded store,
    http(s)://[user:password@]host:port for Elasticsearch (options: VOCMINE_ES_* variables)."""
    path = sqlite_path(url)
    if path is not None:
        from vocmine.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    if url.startswith(("http://", "https://")):
        try:
            from vocmine.store.elastic import ElasticStore
        except ImportError as exc:
            raise ConfigError(
                "the Elasticsearch store needs the elasticsearch client", hint="pip install 'vocmine[elastic]'"
            ) from exc
        return ElasticStore(url)
    raise ConfigError(f"unknown store URL {url!r}", hint="use sqlite:///path or an http(s):// Elasticsearch URL")

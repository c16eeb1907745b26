"""What a store does, split into small roles: the code that needs one role asks for that role only.

``Store`` is all the roles together: what ``open_store`` returns and what each backend implements
(the contract suite in ``vocmine.testing`` holds both backends to it). A function that only reads
aggregations takes an ``AggregateStore``, one that checks API keys a ``KeyStore``, and so on, so
its signature says what it touches and a test can hand it a small fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from vocmine.schema import (
    AlertRule,
    ApiKey,
    Conversation,
    ConversationAnalysis,
    LabelCorrection,
    ReviewState,
    SerializedConversation,
    Theme,
    UploadJob,
)
from vocmine.store.query import (
    AgentAggregate,
    AgentGrouping,
    AnalysisStats,
    Breakdown,
    ConversationFilter,
    ConversationTotal,
    Interval,
    ReviewPage,
    ReviewQuery,
    ScoreTotal,
    SearchPage,
    SearchQuery,
    StoreStats,
    SurveyTable,
    SurveyThemes,
    ThemeAggregate,
    UpsertOutcome,
)

# What to write instead of the incoming conversation, given the stored one: a conversation, or one
# serialized ahead (the store then takes its content hash and document as they are).
Merge = Callable[[Conversation | None, Conversation], Conversation | SerializedConversation]


@dataclass(frozen=True)
class Partition:
    """One of ``of`` parts of the conversations pending analysis, as ``plan_partitions`` planned it:
    small and picklable (plain values only), so a driver can send it to a worker on another machine.
    ``bounds`` is the backend's own description of its part: SQLite (after rowid, up to rowid or None
    for no end), Elasticsearch (point-in-time id, slice id, number of slices)."""

    number: int
    of: int
    bounds: tuple[str | int | None, ...]


class ConversationStore(Protocol):
    """Conversations in, conversations out: writes, lookups, full-text and semantic search, stats."""

    def upsert_conversations(
        self, conversations: Sequence[Conversation], merge: Merge | None = None
    ) -> list[UpsertOutcome]:
        """Insert or replace by id, atomically for the batch; unchanged content is left alone.
        ``merge(stored, incoming)`` gives what to write instead of ``incoming``. The stored version
        is read inside the write, so another process writing the same conversation at the same time
        loses nothing: SQLite reads it inside the write transaction, Elasticsearch writes guarded by
        the version it read and, when another writer came first, reads and merges again."""

    def bulk_load(self) -> AbstractContextManager[None]:
        """Around many writes in a row (an ingestion run): the store may put off work it does faster
        once, at the end (SQLite builds an empty store's conversation indexes after the load). What
        is stored, and what reads answer, is the same; reads may be slower until it ends."""

    def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, Conversation]: ...

    def conversation_ids_for_turn_keys(self, keys: Sequence[str]) -> dict[str, str]:
        """Which stored conversation holds each message key (for joining replies across runs)."""

    def search(self, query: SearchQuery) -> SearchPage: ...

    def semantic_search(
        self, vector: Any, filter: ConversationFilter | None = None, limit: int = 20, offset: int = 0
    ) -> list[tuple[str, float, str]]:
        """(conversation id, cosine of its best segment, that segment's text), best first."""

    def hybrid_search(
        self, text: str, vector: Any, filter: ConversationFilter, depth: int = 200
    ) -> list[tuple[str, float, list[str]]]:
        """Full text and semantic rankings fused by reciprocal rank (``vocmine.store.fusion``):
        (conversation id, fused score, what matched), best first."""

    def facet_counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts by channel, sentiment, stage and signal over everything the query matches."""

    def iter_conversations(self, filter: ConversationFilter | None = None) -> Iterator[Conversation]: ...

    def stats(self, filter: ConversationFilter | None = None) -> StoreStats: ...

    def latest_start(self, filter: ConversationFilter | None = None) -> datetime | None:
        """When the newest matching conversation started (what insight windows end at by default)."""


class AnalysisStore(Protocol):
    """Analysis results per conversation and per segment, with the segments' embeddings."""

    def write_analyses(self, analyses: Sequence[ConversationAnalysis], vectors: Sequence[Any]) -> None:
        """Replace each conversation's analysis, segments and segment embeddings (``vectors[i]`` is a
        float32 matrix with one row per segment of ``analyses[i]``, or None), atomically for the batch."""

    def get_analyses(self, conversation_ids: Iterable[str]) -> dict[str, ConversationAnalysis]: ...

    def iter_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        """Conversations with no analysis, an analysis of older content, or one made by other models."""

    def count_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> int: ...

    def plan_partitions(
        self, versions_key: str, count: int, filter: ConversationFilter | None = None
    ) -> list[Partition]:
        """Split what ``iter_unanalysed`` would give into at most ``count`` balanced parts (none when
        nothing is pending): every pending conversation is in exactly one. Pass the plan to
        ``release_partitions`` when the run is over."""

    def iter_partition(
        self, partition: Partition, versions_key: str, filter: ConversationFilter | None = None
    ) -> Iterator[Conversation]:
        """The conversations of ``partition`` that need analysis now: read when called, so a partition
        run again after a failure skips what the failed attempt already wrote."""

    def release_partitions(self, partitions: Sequence[Partition]) -> None:
        """Free what a plan holds on the server (Elasticsearch: its point in time)."""

    def iter_segment_vectors(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], Any]]:
        """(segment ids, float32 matrix) in batches, for themes and semantic search."""

    def get_segment_vectors(self, segment_ids: Sequence[str]) -> dict[str, Any]:
        """Each found segment's embedding (float32 vector) by id: what copying a store needs."""

    def analysis_stats(self, filter: ConversationFilter | None = None) -> AnalysisStats: ...


class ThemeStore(Protocol):
    """The theme catalog and every segment's theme. The catalog lives in the store, so every API
    worker serves the same names and merges."""

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


class AggregateStore(Protocol):
    """The aggregations the insights are computed from (trends, emerging, priorities, drivers, agents)."""

    def theme_aggregates(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        theme_map: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> list[ThemeAggregate]:
        """Per theme. With ``theme_map`` (segment theme id → reported id, e.g. sub-theme → top-level
        theme) per reported id instead: a conversation counts once however many of its themes map
        there, and themes not in the map are left out. Buckets start at midnight in ``tz`` (an IANA
        name; None: UTC)."""

    def conversation_totals(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        tz: str | None = None,
    ) -> list[ConversationTotal]: ...

    def score_totals(
        self, filter: ConversationFilter | None = None, interval: Interval | None = None, tz: str | None = None
    ) -> list[ScoreTotal]:
        """Volume, conversation sentiment labels and survey answers per bucket (one row, bucket None,
        without ``interval``; no row for an empty bucket). Unlike ``conversation_totals`` the volume
        and the survey answers count every matching conversation, analysed or not; the sentiment
        labels only the analysed ones (``analysed`` is their number). Buckets as in ``theme_aggregates``."""

    def agent_aggregates(
        self, by: AgentGrouping, filter: ConversationFilter | None = None, interval: Interval | None = None
    ) -> list[AgentAggregate]: ...

    def iter_survey_themes(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> Iterator[SurveyThemes]:
        """Analysed conversations with an NPS or CSAT score, with their themes (mapped as in
        ``theme_aggregates``)."""

    def survey_table(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> SurveyTable:
        """The same conversations as ``iter_survey_themes``, as arrays (what key drivers read)."""

    def prepare_serving(self) -> None:
        """Get read paths ready for a long-running server (the embedded store builds in-memory
        aggregation columns; Elasticsearch has nothing to do). Results never depend on it."""


class KeyStore(Protocol):
    """API keys: the secret is never stored, only its hash (``vocmine.services.keys``)."""

    def add_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None: ...

    def list_api_keys(self) -> list[ApiKey]: ...

    def revoke_api_key(self, key_id: str) -> ApiKey: ...


class ReviewStore(Protocol):
    """The review queue: state, notes, label corrections as feedback, and the audit trail."""

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

    def alert_review(self, conversation_id: str, actor: str, reason: str) -> bool:
        """Queue the conversation on an alert's behalf (``enqueue_review``) and say whether ``actor``
        alerted on it for the first time. Decided inside the write, so two evaluations running at
        once (two API workers, an analysis and an evaluation) agree on which one was first, and a
        webhook goes out once."""


class AlertStore(Protocol):
    """Alert rules and the record of every webhook delivery."""

    def save_alert_rule(self, rule: AlertRule) -> None: ...

    def list_alert_rules(self) -> list[AlertRule]: ...

    def delete_alert_rule(self, rule_id: str) -> None: ...

    def record_delivery(
        self, rule_id: str, conversation_id: str, status: str, attempts: int, error: str | None
    ) -> None: ...

    def list_deliveries(self, rule_id: str | None = None) -> list[dict[str, Any]]: ...


class JobStore(Protocol):
    """Upload jobs' records, kept in the store so that every API worker can answer for a job
    whichever one runs it."""

    def save_upload_job(self, job: UploadJob) -> None:
        """Create or replace the job's record (by its ``id``)."""

    def get_upload_job(self, job_id: str) -> UploadJob | None: ...

    def unfinished_upload_jobs(self) -> list[UploadJob]:
        """Jobs still queued or running, oldest first."""
        ...


@runtime_checkable
class Store(
    ConversationStore, AnalysisStore, ThemeStore, AggregateStore, KeyStore, ReviewStore, AlertStore, JobStore, Protocol
):
    """Every role: what a backend implements and ``open_store`` returns."""

    def close(self) -> None: ...

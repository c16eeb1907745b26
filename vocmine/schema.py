"""Canonical records shared by ingestion, analysis, storage and the API.

A Conversation is the unit an analyst thinks in (an e-mail thread, a chat, a call, a social thread).
Its ``id`` is derived from the source's own identifier when there is one (thread root Message-ID,
root tweet id, chat or call id) and from a hash of its content otherwise, so that ingesting the same
input twice yields the same ids and changes nothing.

All time stamps are timezone-aware UTC; a naive time stamp from a source is taken to be UTC.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["chat", "email", "social", "call"]
CHANNELS: tuple[Channel, ...] = ("chat", "email", "social", "call")
SpeakerRole = Literal["customer", "agent", "bot", "system"]
SPEAKER_ROLES: tuple[SpeakerRole, ...] = ("customer", "agent", "bot", "system")

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


def stable_hash(*parts: str, length: int = 20) -> str:
    """Hex digest of the parts, joined unambiguously; used for ids and content hashes."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def conversation_id_from_source(channel: str, source_key: str) -> str:
    """Id for a conversation whose source gives it an identifier (thread root, chat id, call id).

    The source key itself is hashed: Message-IDs and account names can carry personal data.
    """
    return f"{channel}-{stable_hash(channel, source_key)}"


def conversation_id_from_content(channel: str, turns: list[Turn]) -> str:
    """Id for a conversation whose source gives none: a hash of its turns."""
    return f"{channel}-{stable_hash(channel, *(t.identity() for t in turns))}"


def as_utc(value: datetime | None) -> datetime | None:
    """A time in UTC; one without a zone is taken to be UTC already, as the store keeps times."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class SurveyScores(_Record):
    """Survey answers attached to a conversation: NPS 0–10, CSAT 1–5, CES 1–7."""

    nps: int | None = Field(default=None, ge=0, le=10)
    csat: float | None = Field(default=None, ge=1, le=5)
    ces: float | None = Field(default=None, ge=1, le=7)

    def is_empty(self) -> bool:
        return self.nps is None and self.csat is None and self.ces is None


class Turn(_Record):
    """One utterance or message. ``text`` is what analysis reads: cleaned, with quoted replies and
    signatures removed, PII redacted. ``raw_text`` keeps the full (redacted) original body."""

    key: str | None = None  # the source's id for this message (Message-ID, tweet id), if any
    role: SpeakerRole
    speaker: str | None = None  # a label (agent name, brand handle, pseudonymous customer id)
    text: str
    raw_text: str | None = None
    timestamp: datetime | None = None
    start_s: float | None = Field(default=None, ge=0)  # call offsets, seconds from call start
    end_s: float | None = Field(default=None, ge=0)
    language: str | None = None

    @field_validator("timestamp")
    @classmethod
    def _timestamp_utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)

    def identity(self) -> str:
        """What makes two turns the same turn when threads are merged across runs."""
        if self.key:
            return f"key:{self.key}"
        stamp = self.timestamp.isoformat() if self.timestamp else ""
        return "hash:" + stable_hash(self.role, self.text, stamp, str(self.start_s))


class CallMetrics(_Record):
    """Derived from turn timings. Overtalk is time when both parties speak at once; silence is
    time within the call when nobody does."""

    duration_s: float = Field(ge=0)
    talk_time_s: dict[str, float]  # by speaker role
    silence_s: float = Field(ge=0)
    overtalk_s: float = Field(ge=0)
    silence_share: float = Field(ge=0, le=1)
    overtalk_share: float = Field(ge=0, le=1)


class Conversation(_Record):
    id: str
    channel: Channel
    source: str  # the input format it came from, e.g. "eml", "mbox", "twcs-csv", "aws-transcribe"
    source_id: str | None = None  # pseudonymised source identifier (never raw PII)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    subject: str | None = None
    customer_id: str | None = None
    account_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    brand: str | None = None
    product: str | None = None
    language: str | None = None
    survey: SurveyScores | None = None
    call_metrics: CallMetrics | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    turns: list[Turn] = Field(min_length=1)

    @field_validator("started_at", "ended_at")
    @classmethod
    def _bounds_utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)

    def customer_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "customer"]

    def customer_text(self) -> str:
        """The voice of the customer: what full-text search and analysis read."""
        return "\n".join(t.text for t in self.customer_turns() if t.text)

    def content_hash(self) -> str:
        """Hash of everything stored, so an unchanged re-ingest is recognised as a duplicate."""
        payload = self.model_dump(mode="json", exclude={"id"})
        return stable_hash(json.dumps(payload, sort_keys=True, ensure_ascii=False), length=32)

    def with_time_bounds(self) -> Conversation:
        """Fill started_at/ended_at from turn time stamps where the source did not give them."""
        stamps = [t.timestamp for t in self.turns if t.timestamp is not None]
        if not stamps:
            return self
        return self.model_copy(
            update={
                "started_at": self.started_at or min(stamps),
                "ended_at": self.ended_at or max(stamps),
            }
        )


@dataclass(frozen=True)
class SerializedConversation:
    """A conversation with what a store computes from it to write it (its content hash and JSON
    document), computed ahead where that is cheaper than in the writing process: an ingestion worker
    prepares threads while the run's one writer is busy. Build it with ``of``, never by hand, so the
    two always belong to the conversation."""

    conversation: Conversation
    content_hash: str
    doc: str

    @classmethod
    def of(cls, conversation: Conversation) -> SerializedConversation:
        return cls(conversation, conversation.content_hash(), conversation.model_dump_json())

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Handed to another process as its document alone: the conversation is read back from it
        # (pydantic's JSON, in Rust) in a third of the time unpickling its models took, and is the
        # same conversation (tests/unit/ingest/test_handed_between_processes.py).
        return _serialized_from_doc, (self.content_hash, self.doc)


def _serialized_from_doc(content_hash: str, doc: str) -> SerializedConversation:
    return SerializedConversation(Conversation.model_validate_json(doc), content_hash, doc)


def segment_id(conversation_id: str, turn_index: int, start: int) -> str:
    """A segment's id: its conversation, turn and offset, so a segment read back alone (a theme fit
    reads segments without their conversations) still says which conversation it is from."""
    return f"{conversation_id}:{turn_index}:{start}"


def conversation_of_segment(segment_id: str) -> str:
    """The conversation id inside a ``segment_id`` (a conversation id may itself hold colons)."""
    return segment_id.rsplit(":", 2)[0]


class Segment(_Record):
    """An analysable piece of customer text (a sentence or short turn). Analysis attaches sentiment,
    theme and journey stage to segments; ``start``/``end`` are character offsets into the turn's text
    so evidence can be highlighted."""

    id: str
    conversation_id: str
    turn_index: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Evidence(_Record):
    """Where a flag's reason shows in the customer's words: offsets into ``turns[turn_index].text``."""

    turn_index: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str  # the matched words
    context: str  # the segment (sentence) they occur in


Detector = Literal["rule", "model"]


class Flag(_Record):
    """An operational signal raised on a conversation, with its reason and evidence: the rule's
    matched words and/or the segments that drove the learned head (``vocmine.analysis.signals``)."""

    signal: str
    severity: int = Field(ge=1, le=5)
    reason: str
    evidence: list[Evidence] = Field(min_length=1)
    model_version: str
    probability: float | None = Field(default=None, ge=0, le=1)  # the learned head's, when it scored
    detected_by: list[Detector] = Field(default_factory=lambda: list[Detector](["rule"]))


SentimentLabel = Literal["negative", "neutral", "positive"]
# The stage of a conversation in a language the models do not read (vocmine.analysis.pipeline): it has
# no sentiment, segments or learned flags, and is counted apart instead of given numbers.
UNSUPPORTED_LANGUAGE = "unsupported_language"
Trajectory = Literal["improved", "worsened", "steady"]
# What a conversation's stage may be: a journey stage (``analysis/journey``: its STAGES), unknown
# below the head's threshold, or the language marker above.
StageName = Literal[
    "awareness", "consideration", "purchase", "use", "support", "advocacy", "unknown", "unsupported_language"
]


class AnalysedSegment(Segment):
    """A segment with what the heads said about it. The segment's embedding is kept by the store
    beside it (for semantic search and themes), not in this record."""

    sentiment: SentimentLabel
    sentiment_score: float = Field(ge=-1, le=1)  # P(positive) - P(negative)
    stage: str  # a journey stage or "unknown"
    stage_confidence: float = Field(ge=0, le=1)
    theme_id: str | None = None  # set by the theme model (issue: themes and insights)


class ConversationSentiment(_Record):
    """Aggregate of the customer segments (rule in ``vocmine.analysis.sentiment.model``)."""

    label: SentimentLabel
    score: float = Field(ge=-1, le=1)  # mean segment score
    most_negative: float = Field(ge=-1, le=1)  # satisfaction is about extremes: kept beside the mean
    opening: float | None = None  # mean score of the customer's first turn
    closing: float | None = None  # ... and of their last turn
    trajectory: Trajectory | None = None  # None with fewer than two customer turns


class ConversationAnalysis(_Record):
    """Everything analysis says about one conversation, traceable to the models that said it.

    ``content_hash`` is the conversation's content hash when it was analysed: when ingestion later
    changes the conversation (a reply joins the thread) the analysis is stale and is redone.
    ``sentiment`` is None when the customer said nothing analysable (for example a call with only
    agent turns)."""

    conversation_id: str
    content_hash: str
    sentiment: ConversationSentiment | None
    stage: str  # a journey stage, "unknown", or UNSUPPORTED_LANGUAGE
    stage_confidence: float = Field(ge=0, le=1)
    stage_probabilities: dict[str, float] = Field(default_factory=dict)
    flags: list[Flag] = Field(default_factory=list)
    segments: list[AnalysedSegment] = Field(default_factory=list)
    model_versions: dict[str, str]
    analysed_at: datetime

    @field_validator("analysed_at")
    @classmethod
    def _analysed_utc(cls, value: datetime) -> datetime:
        return as_utc(value)  # type: ignore[return-value]

    def max_severity(self) -> int:
        return max((f.severity for f in self.flags), default=0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_midnight(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, datetime.min.time(), UTC)


ThemeStatus = Literal["active", "retired", "merged"]
# Top-level themes ("theme": tens, what an analyst holds in mind) group the fine clusters
# ("subtheme") that segments belong to.
ThemeLevel = Literal["theme", "subtheme"]


class Theme(_Record):
    """One theme in the catalog. Ids never change meaning: a re-fit keeps the id of a theme it finds
    again, retires the ones it does not, and gives new ids to new ones (rule in
    ``vocmine.analysis.themes.catalog``)."""

    id: str
    label: str  # made from keywords and a representative phrase
    name: str | None = None  # the analyst's name (rename) or the seed taxonomy's name
    description: str | None = None  # from the seed taxonomy
    keywords: list[str] = Field(default_factory=list)
    phrase: str = ""
    size: int = 0  # segments assigned when fitted
    status: ThemeStatus = "active"
    merged_into: str | None = None
    seeded: bool = False
    level: ThemeLevel = "subtheme"
    parent: str | None = None  # a sub-theme's top-level theme
    first_version: str = ""
    model_version: str = ""
    # How alike it is to the previous fit's theme whose id it kept: the cosine of their centroids (a
    # sub-theme), or the share of sub-themes they have in common (a top-level theme, ``levels.py``).
    match_similarity: float | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.label


Scope = Literal["read", "ingest", "review", "admin"]


class ApiKey(_Record):
    """An API key as listed: never its secret (only a hash of it is stored, see vocmine/services/keys.py)."""

    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None = None


ReviewStatus = Literal["new", "in_review", "resolved", "dismissed"]
# Allowed moves; a closed review can be reopened.
REVIEW_TRANSITIONS: dict[str, set[str]] = {
    "new": {"in_review", "dismissed"},
    "in_review": {"resolved", "dismissed", "new"},
    "resolved": {"in_review"},
    "dismissed": {"in_review"},
}


class ReviewNote(_Record):
    at: datetime
    author: str
    text: str


class LabelCorrection(_Record):
    """A reviewer's correction of a wrong label: feedback that evaluation and retraining read."""

    field: Literal["sentiment", "stage", "theme"]
    value: str  # the right label (a sentiment, a journey stage, a theme id)
    segment_id: str | None = None  # None: the conversation-level label
    previous: str | None = None  # what the model said
    at: datetime | None = None
    author: str | None = None


class ReviewState(_Record):
    """A flagged conversation's place in the review queue."""

    conversation_id: str
    status: ReviewStatus = "new"
    assignee: str | None = None
    loop_closed: bool = False  # the customer was contacted and the issue closed with them
    loop_closed_at: datetime | None = None
    revision: int = 0  # bumps on every change; send it back to update without overwriting others
    max_severity: int = 0
    signals: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    channel: Channel | None = None
    notes: list[ReviewNote] = Field(default_factory=list)
    corrections: list[LabelCorrection] = Field(default_factory=list)


class AlertRule(_Record):
    """A rule that puts matching conversations in the review queue and may notify a webhook.

    ``kind = "conversation"``: every condition given must hold for a newly analysed conversation
    (lists mean any of). ``kind = "theme_spike"``: a theme (``theme_id``, or any) is emerging in the
    recent window with at least ``min_rate_ratio``; its recent conversations enter the queue."""

    id: str = ""
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["conversation", "theme_spike"] = "conversation"
    channels: list[Channel] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)  # e.g. {"account_tier": "high"}
    sentiments: list[SentimentLabel] = Field(default_factory=list)
    max_sentiment_score: float | None = Field(default=None, ge=-1, le=1)  # e.g. -0.7: extreme negative
    signals: list[str] = Field(default_factory=list)
    min_severity: int | None = Field(default=None, ge=1, le=5)
    theme_id: str | None = None
    min_rate_ratio: float = Field(default=2.0, ge=1)
    recent_days: int = Field(default=7, ge=1, le=366)
    baseline_days: int = Field(default=28, ge=1, le=1830)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)
    created_at: datetime | None = None


JobState = Literal["queued", "running", "done", "failed"]


class UploadJob(_Record):
    """A background ingestion of uploaded files (``POST /v1/ingest/files``): its state, progress and,
    once read, the ingestion report. Kept in the store so that any API worker answers for it."""

    id: str
    files: list[str]
    state: JobState = "queued"
    created_at: datetime = Field(default_factory=lambda: utcnow())
    finished_at: datetime | None = None
    bytes_read: int = 0  # of the file being read
    current_file: str | None = None
    analysed: int = 0
    report: dict[str, Any] | None = None
    error: str | None = None
    # The process running it ("host:pid:start time"), so a restarted API can tell a job whose
    # process died from one another worker is still running (services/jobs_recovery.py).
    worker: str | None = None

    def record(self) -> dict[str, Any]:
        """The job as JSON, as the store keeps it and ``GET /v1/jobs/{id}`` shows it."""
        data = self.model_dump()
        data["created_at"] = self.created_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data

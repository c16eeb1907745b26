"""Review actions that need more than the store: a label correction is checked against what the
models can say and against the conversation's own analysis before it is kept as feedback; a note is
redacted like the conversation it is about (reviewers paste what the customer wrote)."""

from __future__ import annotations

from vocmine.analysis.journey.model import STAGES, UNKNOWN
from vocmine.errors import ConfigError, NotFoundError
from vocmine.schema import LabelCorrection, ReviewState
from vocmine.settings import Settings
from vocmine.store.protocol import Store

SENTIMENTS = ("negative", "neutral", "positive")


def correct_label(store: Store, conversation_id: str, actor: str, correction: LabelCorrection) -> ReviewState:
    analysis = store.get_analyses([conversation_id]).get(conversation_id)
    if analysis is None:
        raise NotFoundError(f"no analysed conversation {conversation_id!r}", hint="take an id from the review queue")
    allowed = _allowed(store, correction.field)
    if correction.value not in allowed:
        raise ConfigError(
            f"{correction.value!r} is not a {correction.field}", hint=f"use one of: {', '.join(sorted(allowed)[:20])}"
        )
    if correction.segment_id is None:
        if correction.field == "theme":
            raise ConfigError("a theme belongs to a segment", hint="give segment_id")
        previous: str | None
        previous = analysis.sentiment.label if correction.field == "sentiment" and analysis.sentiment else None
        previous = analysis.stage if correction.field == "stage" else previous
    else:
        segment = next((s for s in analysis.segments if s.id == correction.segment_id), None)
        if segment is None:
            raise ConfigError(
                f"segment {correction.segment_id!r} is not part of {conversation_id}",
                hint="take a segment id from the conversation's analysis",
            )
        previous = {"sentiment": segment.sentiment, "stage": segment.stage, "theme": segment.theme_id}[correction.field]
    return store.add_label_correction(conversation_id, actor, correction.model_copy(update={"previous": previous}))


def _allowed(store: Store, field: str) -> set[str]:
    if field == "sentiment":
        return set(SENTIMENTS)
    if field == "stage":
        return {*STAGES, UNKNOWN}
    return {t.id for t in store.list_themes() if t.status == "active"}


def add_note(store: Store, settings: Settings, conversation_id: str, actor: str, text: str) -> ReviewState:
    if settings.redact_pii:
        from vocmine.ingest.redact import Redactor

        redactor = Redactor(
            types=settings.redact_types, phone_regions=settings.phone_regions, keep_handles=settings.brand_accounts
        )
        text = redactor.redact(text) or text
    return store.add_review_note(conversation_id, actor, text)

"""Records for tests and benchmarks: conversations, analyses, embeddings and theme catalogs built in
one place, so that every suite (the store contract, the API tests, the unit tests) speaks of the same
shapes. Vectors are 8-dimensional unit rows (a test store's ``dimensions``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from vocmine.schema import (
    AnalysedSegment,
    Conversation,
    ConversationAnalysis,
    ConversationSentiment,
    Evidence,
    Flag,
    SurveyScores,
    Theme,
    Turn,
)
from vocmine.store.protocol import Store

# (id, day, [(text, theme id)], conversation sentiment label, flag names, channel, NPS)
SeedRow = tuple[str, int, list[tuple[str, str | None]], str, tuple[str, ...], str, int | None]


VERSIONS = {"encoder": "e1", "sentiment": "s1", "journey": "j1", "signals": "r1", "segmenter": "g1"}


def conversation(cid: str, *texts: str) -> Conversation:
    return Conversation(
        id=cid,
        channel="chat",
        source="test",
        started_at=datetime(2026, 9, 1, tzinfo=UTC),
        turns=[Turn(role="customer", text=t) for t in texts],
    )


def analysis(
    c: Conversation,
    *,
    label: str = "negative",
    stage: str = "support",
    flags: tuple[str, ...] = (),
    versions: dict[str, str] | None = None,
) -> ConversationAnalysis:
    segments = [
        AnalysedSegment(
            id=f"{c.id}:{i}:0",
            conversation_id=c.id,
            turn_index=i,
            start=0,
            end=len(t.text),
            text=t.text,
            sentiment=label,
            sentiment_score=-0.8 if label == "negative" else 0.8 if label == "positive" else 0.0,
            stage=stage,
            stage_confidence=0.7,
        )
        for i, t in enumerate(c.turns)
    ]
    return ConversationAnalysis(
        conversation_id=c.id,
        content_hash=c.content_hash(),
        sentiment=ConversationSentiment(
            label=label,
            score=segments[0].sentiment_score,
            most_negative=segments[0].sentiment_score,
            opening=-0.8 if len(segments) > 1 else None,
            closing=0.6 if len(segments) > 1 else None,
            trajectory="improved" if len(segments) > 1 else None,
        ),
        stage=stage,
        stage_confidence=0.7,
        flags=[
            Flag(
                signal=name,
                severity=5 if name == "escalation" else 3,
                reason="because",
                evidence=[Evidence(turn_index=0, start=0, end=3, text=c.turns[0].text[:3], context=c.turns[0].text)],
                model_version="r1",
            )
            for name in flags
        ],
        segments=segments,
        model_versions=versions or VERSIONS,
        analysed_at=datetime(2026, 9, 2, tzinfo=UTC),
    )


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


T0 = datetime(2024, 9, 1, tzinfo=UTC)


def dated_conversation(
    cid: str, text: str, *, day: int = 0, channel: str = "chat", agent_text: str = "ok", **fields: Any
) -> Conversation:
    """A chat (one customer and one agent turn) started ``day`` days after ``T0``."""
    return Conversation(
        id=cid,
        channel=channel,
        source="test",
        started_at=T0 + timedelta(days=day),
        turns=[Turn(role="customer", text=text), Turn(role="agent", text=agent_text)],
        **fields,
    )


def survey_conversation(
    cid: str, day: int, texts: list[str], *, channel: str = "chat", nps: int | None = None
) -> Conversation:
    return Conversation(
        id=cid,
        channel=channel,
        source="test",
        started_at=datetime(2026, 9, 1, tzinfo=UTC) + timedelta(days=day),
        survey=SurveyScores(nps=nps) if nps is not None else None,
        turns=[Turn(role="customer", text=t) for t in texts],
    )


def seed_analysed(store: Store, rows: Sequence[SeedRow]) -> None:
    """Store, analyse and theme conversations; ``rows``: (id, day, [(text, theme)], label, flags,
    channel, nps), with segment ``i`` of a conversation in the theme given for its text ``i``."""
    conversations: list[Conversation] = []
    analyses: list[ConversationAnalysis] = []
    matrices: list[np.ndarray] = []
    assignments: list[tuple[str, str | None]] = []
    for cid, day, parts, label, flags, channel, nps in rows:
        c = survey_conversation(cid, day, [t for t, _ in parts], channel=channel, nps=nps)
        conversations.append(c)
        analyses.append(analysis(c, label=label, flags=flags))
        matrices.append(vectors(len(parts), seed=len(matrices)))
        assignments += [(f"{cid}:{i}:0", theme) for i, (_, theme) in enumerate(parts)]
    store.upsert_conversations(conversations)
    store.write_analyses(analyses, matrices)
    assert store.assign_themes(assignments) == len(assignments)


def catalog(*ids: str) -> list[Theme]:
    return [Theme(id=i, label=f"label {i}", keywords=[i], size=10) for i in ids]

"""Synthetic analysed corpora, seeded, for what needs many conversations rather than a few chosen ones.

* ``varied_conversation`` / ``varied_analysis``: every field and filter dimension varies (missing
  dates, agents, brands, survey scores, themes that only arrive later by assignment), so that two
  ways of answering the same question (SQL and the in-memory columns) can be held to each other.
* ``load_record``: an analysed conversation shaped like production traffic (40 themes, a few
  segments each, 12% flagged, 20% with NPS) for the load and serving benchmarks.

Both are deterministic for a given ``random.Random``: a benchmark's corpus is the same on every run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from vocmine.schema import (
    AnalysedSegment,
    Conversation,
    ConversationAnalysis,
    ConversationSentiment,
    Evidence,
    Flag,
    SurveyScores,
    Turn,
)

VARIED_START = datetime(2026, 1, 1, tzinfo=UTC)
VARIED_SIGNALS = ("churn_risk", "escalation", "high_effort")
VARIED_STAGES = ("purchase", "use", "support", "unknown")
VARIED_LABELS = ("negative", "neutral", "positive")
VARIED_THEMES = [f"t{i}" for i in range(1, 7)]


def varied_conversation(n: int, rng: random.Random, channel: str | None = None) -> Conversation:
    turns = [Turn(role="customer", text=f"words {n} {i} {rng.random():.3f}") for i in range(rng.randint(1, 4))]
    agent = rng.choice([None, "a1", "a2", "a3", "a4"])
    return Conversation(
        id=f"c{n:04d}",
        channel=channel or rng.choice(("chat", "email", "call", "social")),
        source=rng.choice(("s1", "s2")),
        started_at=None if rng.random() < 0.1 else VARIED_START + timedelta(hours=rng.randrange(24 * 120)),
        agent_id=agent,
        team_id=None if agent is None else f"team-{agent[-1] in '12'}",
        brand=rng.choice((None, "North", "South")),
        product=rng.choice((None, "p1", "p2")),
        language=rng.choice((None, "en", "de")),
        customer_id=rng.choice(("k1", "k2", "k3")),
        survey=SurveyScores(
            nps=rng.randrange(11) if rng.random() < 0.5 else None,
            csat=float(rng.randint(1, 5)) if rng.random() < 0.4 else None,
        ),
        turns=turns,
    )


def varied_analysis(c: Conversation, rng: random.Random) -> ConversationAnalysis:
    segments = []
    for i, turn in enumerate(c.turns):
        label = rng.choice(VARIED_LABELS)
        segments.append(
            AnalysedSegment(
                id=f"{c.id}:{i}:0",
                conversation_id=c.id,
                turn_index=i,
                start=0,
                end=len(turn.text),
                text=turn.text,
                sentiment=label,
                sentiment_score={"negative": -0.6, "neutral": 0.05, "positive": 0.7}[label] + rng.random() / 10,
                stage=rng.choice(VARIED_STAGES),
                stage_confidence=0.5,
                theme_id=rng.choice([None, *VARIED_THEMES[:4]]),  # t5, t6 only arrive later, by assignment
            )
        )
    scores = [s.sentiment_score for s in segments]
    flags = [
        Flag(
            signal=signal,
            severity=rng.randint(1, 5),
            reason="test",
            model_version="r1",
            evidence=[Evidence(turn_index=0, start=0, end=3, text="wor", context=c.turns[0].text)],
        )
        for signal in VARIED_SIGNALS
        if rng.random() < 0.15
    ]
    many = len(scores) > 1
    return ConversationAnalysis(
        conversation_id=c.id,
        content_hash=c.content_hash(),
        sentiment=ConversationSentiment(
            label=rng.choice(VARIED_LABELS),
            score=sum(scores) / len(scores),
            most_negative=min(scores),
            opening=scores[0] if many else None,
            closing=scores[-1] if many else None,
            trajectory=rng.choice(("improved", "worsened", "steady")) if many else None,
        ),
        stage=rng.choice(VARIED_STAGES),
        stage_confidence=0.6,
        flags=flags,
        segments=segments,
        model_versions={"encoder": "e"},
        analysed_at=VARIED_START,
    )


LOAD_THEMES = 40

LOAD_WORDS = (
    "refund",
    "bill",
    "charge",
    "delivery",
    "parcel",
    "router",
    "signal",
    "broadband",
    "app",
    "login",
    "password",
    "contract",
    "upgrade",
    "engineer",
    "appointment",
    "roaming",
    "invoice",
    "payment",
    "card",
    "account",
    "speed",
    "outage",
    "cancel",
    "price",
    "discount",
)

LOAD_SENTIMENTS = ("negative", "neutral", "positive")

LOAD_STAGES = ("awareness", "consideration", "purchase", "use", "support", "advocacy", "unknown")

LOAD_SIGNALS = ("churn_risk", "escalation", "repeat_contact", "high_effort", "extreme_negative", "strong_praise")

LOAD_START = datetime(2026, 5, 1, tzinfo=UTC)

LOAD_VERSIONS = {"segmenter": "bench", "encoder": "bench", "sentiment": "bench", "journey": "bench", "signals": "bench"}


def load_record(n: int, rng: random.Random) -> tuple[Conversation, ConversationAnalysis, list[str]]:
    themes = [f"t{rng.randrange(LOAD_THEMES) + 1}" for _ in range(rng.randint(1, 4))]
    texts = [f"{' '.join(rng.sample(LOAD_WORDS, 4))} issue number {rng.randrange(1000)}" for _ in themes]
    started = LOAD_START + timedelta(seconds=rng.randrange(180 * 86400))
    agent = rng.randrange(200)
    conversation = Conversation(
        id=f"c{n:07d}",
        channel=rng.choice(("chat", "email", "call")),
        source="bench",
        started_at=started,
        agent_id=f"agent-{agent}",
        team_id=f"team-{agent % 20}",
        brand=rng.choice(("Northwind", "Contoso", "Fabrikam")),
        survey=SurveyScores(nps=rng.randrange(11)) if rng.random() < 0.2 else None,
        turns=[Turn(role="customer", text=t) for t in texts],
    )
    labels = [rng.choices(LOAD_SENTIMENTS, weights=(5, 3, 2))[0] for _ in texts]
    scores = [{"negative": -0.7, "neutral": 0.0, "positive": 0.7}[label] for label in labels]
    segments = [
        AnalysedSegment(
            id=f"{conversation.id}:{i}:0",
            conversation_id=conversation.id,
            turn_index=i,
            start=0,
            end=len(t),
            text=t,
            sentiment=label,
            sentiment_score=score,
            stage=rng.choice(LOAD_STAGES),
            stage_confidence=0.6,
            theme_id=theme,
        )
        for i, (t, label, score, theme) in enumerate(zip(texts, labels, scores, themes, strict=True))
    ]
    flags = []
    if rng.random() < 0.12:
        signal = rng.choice(LOAD_SIGNALS)
        flags.append(
            Flag(
                signal=signal,
                severity=rng.randint(2, 5),
                reason="bench",
                model_version="bench",
                evidence=[Evidence(turn_index=0, start=0, end=5, text=texts[0][:5], context=texts[0])],
            )
        )
    mean = sum(scores) / len(scores)
    analysis = ConversationAnalysis(
        conversation_id=conversation.id,
        content_hash=conversation.content_hash(),
        sentiment=ConversationSentiment(
            label="negative" if mean <= -0.25 else "positive" if mean >= 0.25 else "neutral",
            score=mean,
            most_negative=min(scores),
            opening=scores[0] if len(scores) > 1 else None,
            closing=scores[-1] if len(scores) > 1 else None,
            trajectory=None
            if len(scores) < 2
            else "improved"
            if scores[-1] - scores[0] >= 0.3
            else "worsened"
            if scores[0] - scores[-1] >= 0.3
            else "steady",
        ),
        stage=rng.choice(LOAD_STAGES),
        stage_confidence=0.6,
        flags=flags,
        segments=segments,
        model_versions=LOAD_VERSIONS,
        analysed_at=started,
    )
    return conversation, analysis, themes

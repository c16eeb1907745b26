"""The analysis pipeline: conversations → segments → one embedding pass → every head.

For each batch of conversations:

1. the customer's turns are segmented (``segmenter``);
2. each distinct segment text gets its embedding and sentiment from the cache, or else from one
   forward pass – with the shipped sentiment model that single pass of the base encoder gives both
   (``SentimentModel.analyse``); a Hugging Face sentiment model needs its own pass beside the
   encoder's, since it shares no layers with it;
3. the journey head reads the embeddings (per segment and per conversation), the signal heads read
   the embeddings and the signal rules the turns, and sentiment is aggregated per conversation with
   its trajectory;
4. the result records the version of every model that made it.

The models read the languages they were trained on (``languages``; English for the shipped ones).
A conversation in another language is not segmented or encoded: its analysis says
``unsupported_language`` as its stage, has no sentiment and no segments (so no theme), and carries
only the rules' flags. A number from a model that cannot read the text would look like a finding;
this way those conversations are counted apart and left out of every aggregate. Texts too short to
tell ("und") and conversations without a detected language are read.

The cache is keyed by (model version, text), so re-analysing after a journey-head or signal-rule
change re-encodes nothing, and repeated texts ("Thanks!", templated openings) are encoded once.
Nothing here knows the store: ``vocmine.services.analysis`` feeds batches from it and writes results back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vocmine.analysis import segmenter
from vocmine.analysis.encoder import EmbeddingCache, Encoder
from vocmine.analysis.journey.model import JourneyHead, StagePrediction
from vocmine.analysis.sentiment.data import LABELS
from vocmine.analysis.sentiment.model import SentimentPrediction, conversation_sentiment, prediction_from_probabilities
from vocmine.analysis.signals.detector import SignalDetector
from vocmine.errors import ConfigError
from vocmine.language import UNDETERMINED
from vocmine.schema import (
    UNSUPPORTED_LANGUAGE,
    AnalysedSegment,
    Conversation,
    ConversationAnalysis,
    stable_hash,
    utcnow,
)


class SentimentBackend(Protocol):
    shares_encoder: bool

    @property
    def version(self) -> str: ...

    def predict(self, texts: list[str]) -> list[SentimentPrediction]: ...


@dataclass
class PipelineCounters:
    """What the pipeline did, for reports and the throughput bench."""

    conversations: int = 0
    segments: int = 0
    encoded: int = 0  # distinct texts run through a model
    cached: int = 0  # distinct texts served from the cache
    seconds_by_step: dict[str, float] = field(default_factory=dict)


class Analyzer:
    def __init__(
        self,
        sentiment: SentimentBackend,
        journey: JourneyHead,
        signals: SignalDetector,
        *,
        encoder: Encoder | None = None,
        cache: EmbeddingCache | None = None,
        themes: Callable[[list[str], np.ndarray], list[str | None]] | None = None,
        languages: frozenset[str] = frozenset({"en"}),
    ) -> None:
        if not sentiment.shares_encoder and encoder is None:
            raise ConfigError(
                "this sentiment model shares no layers with the encoder, so an encoder is needed",
                hint="pass an Encoder (VOCMINE_ENCODER)",
            )
        self.sentiment = sentiment
        self.journey = journey
        self.signals = signals
        self.encoder = encoder
        self.cache = cache
        # The theme head (vocmine.services.themes.LiveThemes): each segment's theme from its text and
        # vector, None for filler or before the first fit. It is not in model_versions: a re-fit
        # reassigns every stored segment itself, so it must not make every analysis stale.
        self.themes = themes
        self.languages = languages
        self.counters = PipelineCounters()
        self._check_head_encoders()

    @property
    def encoder_version(self) -> str:
        if self.encoder is not None and not self.sentiment.shares_encoder:
            return self.encoder.version
        return self.sentiment.encoder_version  # type: ignore[attr-defined]  # every backend that shares has one

    def _check_head_encoders(self) -> None:
        for task, trained_on in (("journey", self.journey.encoder), ("signals", self.signals.encoder)):
            if trained_on and trained_on != self.encoder_version:
                raise ConfigError(
                    f"the {task} head was trained on {trained_on} vectors, but the encoder is {self.encoder_version}",
                    hint=f"retrain it for this encoder: `vocmine train {task} --data ../shared/data`",
                )

    def reads(self, conversation: Conversation) -> bool:
        """Whether the models read this conversation's language (see the module's docstring)."""
        language = conversation.language
        return language is None or language == UNDETERMINED or language in self.languages

    @property
    def model_versions(self) -> dict[str, str]:
        return {
            "segmenter": segmenter.VERSION,
            "encoder": self.encoder_version,
            "sentiment": self.sentiment.version,
            "journey": self.journey.version,
            "signals": self.signals.version,
            # Widening the languages must redo the conversations that were left unread.
            "languages": ",".join(sorted(self.languages)),
        }

    def analyse(self, conversations: Sequence[Conversation]) -> list[tuple[ConversationAnalysis, np.ndarray]]:
        """One analysis and one (segments × dim) embedding matrix per conversation, in order."""
        versions = self.model_versions
        clock = time.perf_counter()
        readable = [self.reads(c) for c in conversations]
        segments = [
            segmenter.segment_conversation(c) if ok else [] for c, ok in zip(conversations, readable, strict=True)
        ]
        texts = [s.text for group in segments for s in group]
        clock = self._lap("segmenting", clock)
        vectors, sentiments = self.segment_outputs(texts)
        clock = self._lap("embedding and sentiment", clock)
        stage_rows = self.journey.predict(vectors, texts) if len(texts) else []
        theme_rows = self.themes(texts, vectors) if self.themes is not None and len(texts) else [None] * len(texts)
        spans, offset = [], 0
        for group in segments:
            spans.append(slice(offset, offset + len(group)))
            offset += len(group)
        stages = iter(
            self.journey.conversation_stages(
                [(vectors[span], texts[span]) for span, ok in zip(spans, readable, strict=True) if ok]
            )
        )
        results = []
        now = utcnow()
        for conversation, group, ok, span in zip(conversations, segments, readable, spans, strict=True):
            analysed = [
                AnalysedSegment(
                    **segment.model_dump(),
                    sentiment=sentiment.label,
                    sentiment_score=sentiment.score,
                    stage=stage.stage,
                    stage_confidence=stage.confidence,
                    theme_id=theme,
                )
                for segment, sentiment, stage, theme in zip(
                    group, sentiments[span], stage_rows[span], theme_rows[span], strict=True
                )
            ]
            stage = next(stages) if ok else StagePrediction(UNSUPPORTED_LANGUAGE, 0.0, {})
            flags = self.signals.detect(conversation, group, vectors[span], learned=ok)
            results.append(
                (
                    ConversationAnalysis(
                        conversation_id=conversation.id,
                        content_hash=conversation.content_hash(),
                        sentiment=conversation_sentiment([(s.turn_index, s.sentiment_score) for s in analysed]),
                        stage=stage.stage,
                        stage_confidence=stage.confidence,
                        stage_probabilities=stage.probabilities,
                        flags=flags,
                        segments=analysed,
                        model_versions=versions,
                        analysed_at=now,
                    ),
                    vectors[span],
                )
            )
        self._lap("journey, signals, aggregates", clock)
        self.counters.conversations += len(conversations)
        self.counters.segments += len(texts)
        return results

    def _lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        steps = self.counters.seconds_by_step
        steps[step] = steps.get(step, 0.0) + now - since
        return now

    def segment_outputs(self, texts: list[str]) -> tuple[np.ndarray, list[SentimentPrediction]]:
        """Embedding and sentiment of each text: from the cache, else from the models."""
        encoder_version = self.encoder_version
        vector_keys = [stable_hash(encoder_version, t, length=32) for t in texts]
        sentiment_version = self.sentiment.version
        sentiment_keys = [stable_hash("sentiment", sentiment_version, t, length=32) for t in texts]
        known = self.cache.get_many(list(dict.fromkeys(vector_keys + sentiment_keys))) if self.cache else {}
        missing = list(
            dict.fromkeys(
                t
                for t, vk, sk in zip(texts, vector_keys, sentiment_keys, strict=True)
                if vk not in known or sk not in known
            )
        )
        self.counters.cached += len(set(texts)) - len(missing)
        if missing:
            fresh = self._run_models(missing)
            self.counters.encoded += len(missing)
            if self.cache is not None:
                self.cache.put_many(fresh)
            known.update(fresh)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), []
        vectors = np.stack([known[k] for k in vector_keys])
        return vectors, [prediction_from_probabilities(known[k]) for k in sentiment_keys]

    def _run_models(self, texts: list[str]) -> dict[str, np.ndarray]:
        if self.sentiment.shares_encoder:
            vectors, predictions = self.sentiment.analyse(texts)  # type: ignore[attr-defined]
        else:
            assert self.encoder is not None  # checked in __init__
            vectors = self.encoder.encode(texts)
            predictions = self.sentiment.predict(texts)
        sentiment_version, encoder_version = self.sentiment.version, self.encoder_version
        fresh: dict[str, np.ndarray] = {}
        for text, vector, prediction in zip(texts, vectors, predictions, strict=True):
            fresh[stable_hash(encoder_version, text, length=32)] = np.asarray(vector, dtype=np.float32)
            fresh[stable_hash("sentiment", sentiment_version, text, length=32)] = np.array(
                [prediction.probabilities[label] for label in LABELS], dtype=np.float32
            )
        return fresh

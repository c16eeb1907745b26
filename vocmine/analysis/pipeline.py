"""The analysis pipeline: conversations → segments → one embedding pass → every head.

For each batch of conversations:

1. the customer's turns are segmented (``segmenter``);
2. each distinct segment text gets its embedding and sentiment from the cache, or else from one
   forward pass – with the shipped sentiment model that single pass of the base encoder gives both
   (``SentimentModel.analyse``); a Hugging Face sentiment model needs its own pass beside the
   encoder's, since it shares no layers with it;
3. the journey head reads the embeddings (per segment and per conversation), the signal rules read
   the turns, and sentiment is aggregated per conversation with its trajectory;
4. the result records the version of every model that made it.

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
from vocmine.analysis.journey.model import JourneyHead
from vocmine.analysis.sentiment.data import LABELS
from vocmine.analysis.sentiment.model import SentimentPrediction, conversation_sentiment, prediction_from_probabilities
from vocmine.analysis.signals.rules import SignalDetector
from vocmine.errors import ConfigError
from vocmine.schema import AnalysedSegment, Conversation, ConversationAnalysis, stable_hash, utcnow


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
        self.counters = PipelineCounters()
        self._check_journey_encoder()

    @property
    def encoder_version(self) -> str:
        if self.encoder is not None and not self.sentiment.shares_encoder:
            return self.encoder.version
        return self.sentiment.encoder_version  # type: ignore[attr-defined]  # every backend that shares has one

    def _check_journey_encoder(self) -> None:
        if self.journey.encoder and self.journey.encoder != self.encoder_version:
            raise ConfigError(
                f"the journey head was trained on {self.journey.encoder} vectors, but the encoder is "
                f"{self.encoder_version}",
                hint="retrain it for this encoder: `vocmine train journey --data ../shared/data`",
            )

    @property
    def model_versions(self) -> dict[str, str]:
        return {
            "segmenter": segmenter.VERSION,
            "encoder": self.encoder_version,
            "sentiment": self.sentiment.version,
            "journey": self.journey.version,
            "signals": self.signals.version,
        }

    def analyse(self, conversations: Sequence[Conversation]) -> list[tuple[ConversationAnalysis, np.ndarray]]:
        """One analysis and one (segments × dim) embedding matrix per conversation, in order."""
        versions = self.model_versions
        clock = time.perf_counter()
        segments = [segmenter.segment_conversation(c) for c in conversations]
        texts = [s.text for group in segments for s in group]
        clock = self._lap("segmenting", clock)
        vectors, sentiments = self.segment_outputs(texts)
        clock = self._lap("embedding and sentiment", clock)
        stage_rows = self.journey.predict(vectors) if len(texts) else []
        theme_rows = self.themes(texts, vectors) if self.themes is not None and len(texts) else [None] * len(texts)
        results, offset = [], 0
        now = utcnow()
        for conversation, group in zip(conversations, segments, strict=True):
            span = slice(offset, offset + len(group))
            offset += len(group)
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
            stage = self.journey.conversation_stage(vectors[span])
            results.append(
                (
                    ConversationAnalysis(
                        conversation_id=conversation.id,
                        content_hash=conversation.content_hash(),
                        sentiment=conversation_sentiment([(s.turn_index, s.sentiment_score) for s in analysed]),
                        stage=stage.stage,
                        stage_confidence=stage.confidence,
                        stage_probabilities=stage.probabilities,
                        flags=self.signals.detect(conversation),
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

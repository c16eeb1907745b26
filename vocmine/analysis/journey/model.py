"""Customer-journey stage: a linear head over the shared sentence embeddings and the words.

Stages (definitions in models/journey/MODEL_CARD.md): awareness, consideration, purchase, use,
support, advocacy, and "unknown" when the head's top probability is below its threshold.

A conversation's stage is read from all its customer segments at once: the head applied to the
unit-length mean of their vectors (``conversation_vector``) and to the TF-IDF vector of their text
(``lexicon.Lexicon``), which is also how it was trained, so the context of the whole conversation
counts. It is "unknown" when the top probability is below the threshold chosen on cross-validation.

The head is stored as JSON (weights, bias, threshold, vocabulary, encoder version, metrics): no
pickle. A head without a vocabulary (the ones trained before it) reads the embedding alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocmine.analysis.journey.lexicon import Lexicon
from vocmine.analysis.vectors import conversation_vector
from vocmine.errors import ConfigError
from vocmine.resources import model_dir

STAGES = ("awareness", "consideration", "purchase", "use", "support", "advocacy")
UNKNOWN = "unknown"
UNCLEAR = "unclear"  # the labelling guide's "cannot tell": such examples are not trained on
DEFAULT_HEAD = model_dir("journey") / "journey_head.json"


@dataclass(frozen=True)
class StagePrediction:
    stage: str
    confidence: float
    probabilities: dict[str, float]


class JourneyHead:
    def __init__(
        self,
        weights: np.ndarray,
        bias: np.ndarray,
        threshold: float,
        version: str,
        encoder: str | None = None,
        conversation_threshold: float | None = None,
        lexicon: Lexicon | None = None,
        term_weights: np.ndarray | None = None,
    ) -> None:
        if weights.shape[0] != len(STAGES) or bias.shape != (len(STAGES),):
            raise ConfigError(
                "journey head does not have one row per stage", hint="retrain with `vocmine train journey`"
            )
        if (lexicon is None) != (term_weights is None) or (
            lexicon is not None and term_weights is not None and term_weights.shape != (len(STAGES), len(lexicon.terms))
        ):
            raise ConfigError(
                "journey head's vocabulary and term weights do not match", hint="retrain with `vocmine train journey`"
            )
        self.lexicon = lexicon
        self.term_weights = None if term_weights is None else term_weights.astype(np.float32)
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.threshold = threshold
        # A conversation's stage is a mean over segments, less peaked than one segment's: its own threshold.
        self.conversation_threshold = threshold if conversation_threshold is None else conversation_threshold
        self.version = version
        self.encoder = encoder  # the encoder whose vectors it was trained on; other vectors make no sense to it

    @classmethod
    def load(cls, path: Path = DEFAULT_HEAD) -> JourneyHead:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                np.array(data["weights"]),
                np.array(data["bias"]),
                float(data["threshold"]),
                data["version"],
                encoder=data.get("metrics", {}).get("encoder"),
                conversation_threshold=data.get("conversation_threshold"),
                lexicon=Lexicon.from_json(data["lexicon"]) if "lexicon" in data else None,
                term_weights=np.array(data["term_weights"]) if "term_weights" in data else None,
            )
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(
                f"cannot load the journey head from {path}: {exc}",
                hint="train one with `vocmine train journey --data ../shared/data`",
            ) from exc

    def save(self, path: Path, extra: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": self.version,
            "stages": list(STAGES),
            "threshold": self.threshold,
            "conversation_threshold": self.conversation_threshold,
            "weights": self.weights.round(6).tolist(),
            "bias": self.bias.round(6).tolist(),
            **extra,
        }
        if self.lexicon is not None and self.term_weights is not None:
            payload["lexicon"] = self.lexicon.to_json()
            payload["term_weights"] = self.term_weights.round(5).tolist()
        path.write_text(json.dumps(payload), encoding="utf-8")

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Stage probabilities of each (vector, text) pair: the text is what the vector encodes."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(vectors)} vectors but {len(texts)} texts")
        logits = vectors @ self.weights.T + self.bias
        if self.lexicon is not None and self.term_weights is not None:
            logits = logits + np.asarray(self.lexicon.vectors(texts) @ self.term_weights.T)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray, texts: Sequence[str]) -> list[StagePrediction]:
        """One stage per segment."""
        return [self._decide(row) for row in self.probabilities(vectors, texts)]

    def conversation_stage(self, segment_vectors: np.ndarray, segment_texts: Sequence[str]) -> StagePrediction:
        """The stage of a conversation from all its customer segments (vectors and their texts)."""
        return self.conversation_stages([(segment_vectors, segment_texts)])[0]

    def conversation_stages(self, conversations: Sequence[tuple[np.ndarray, Sequence[str]]]) -> list[StagePrediction]:
        """``conversation_stage`` of many conversations in one pass (one TF-IDF transform, not one each)."""
        staged = [i for i, (vectors, _) in enumerate(conversations) if len(vectors)]
        results = [StagePrediction(UNKNOWN, 0.0, {})] * len(conversations)
        if staged:
            vectors = np.stack([conversation_vector(conversations[i][0]) for i in staged])
            rows = self.probabilities(vectors, [" ".join(conversations[i][1]) for i in staged])
            for i, row in zip(staged, rows, strict=True):
                results[i] = self._decide(row, self.conversation_threshold)
        return results

    def _decide(self, row: np.ndarray, threshold: float | None = None) -> StagePrediction:
        best = int(row.argmax())
        confidence = float(row[best])
        stage = STAGES[best] if confidence >= (self.threshold if threshold is None else threshold) else UNKNOWN
        return StagePrediction(
            stage, round(confidence, 4), {s: round(float(p), 4) for s, p in zip(STAGES, row, strict=True)}
        )

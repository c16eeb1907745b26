"""Which customer segments are content (talk about something) and which are filler.

A segment is filler when the word rule says so for certain (``rules.py``), or when the learned head
– a logistic regression over the shared sentence embedding plus the segment's length – gives
filler a probability of at least its threshold. The head is trained on real segments labelled by
hand (``models/content/labels.jsonl``, guide in docs/content_segments.md) with
``vocmine train content --data ../shared/data``; its threshold keeps ``CONTENT_RECALL`` of the
content segments in cross-validation, because dropping a topical segment from themes costs more
than keeping a "thanks". Measured in ``bench/content_filter.py`` and models/content/MODEL_CARD.md.

Stored as JSON (weights, bias, threshold, encoder version, metrics): no pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vocmine.analysis.content.rules import is_rule_filler, topic_words
from vocmine.errors import ConfigError
from vocmine.resources import model_dir

DEFAULT_HEAD = model_dir("content") / "content_head.json"


def length_features(texts: Sequence[str]) -> np.ndarray:
    """What the embedding does not say well: how many topic words a segment has (log-scaled), and
    whether the word rule already calls it filler."""
    counts = np.array([len(topic_words(t)) for t in texts], dtype=np.float32)
    rule = np.array([is_rule_filler(t) for t in texts], dtype=np.float32)
    return np.stack([np.log1p(counts), rule], axis=1) if len(texts) else np.zeros((0, 2), dtype=np.float32)


def features(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    return np.hstack([np.asarray(vectors, dtype=np.float32), length_features(texts)])


class ContentFilter:
    def __init__(self, weights: np.ndarray, bias: float, threshold: float, version: str, encoder: str | None) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = float(bias)
        self.threshold = threshold
        self.version = version
        self.encoder = encoder  # the encoder whose vectors it was trained on

    @classmethod
    def load(cls, path: Path = DEFAULT_HEAD) -> ContentFilter:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                np.array(data["weights"]), data["bias"], float(data["threshold"]), data["version"], data.get("encoder")
            )
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(
                f"cannot load the content filter from {path}: {exc}",
                hint="train one with `vocmine train content --data ../shared/data`",
            ) from exc

    def save(self, path: Path, metrics: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": self.version,
            "encoder": self.encoder,
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": [round(float(w), 6) for w in self.weights],
            "metrics": metrics,
        }
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")

    def filler_probability(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        if not len(texts):
            return np.zeros(0, dtype=np.float32)
        if vectors.shape[1] + 2 != len(self.weights):
            raise ConfigError(
                f"the content filter reads {len(self.weights) - 2}-dimensional vectors, these have {vectors.shape[1]}",
                hint="retrain it for this encoder: `vocmine train content --data ../shared/data`",
            )
        logits = features(texts, vectors) @ self.weights + self.bias
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def is_filler(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """One boolean per segment: True for filler (left out of themes)."""
        rule = np.array([is_rule_filler(t) for t in texts], dtype=bool)
        return rule | (self.filler_probability(texts, vectors) >= self.threshold)

"""Learned signal detectors: one linear head per signal over the segment embeddings the analysis
already computes (no second encoder pass).

A head scores every customer segment (a logit), and – when there are several – the whole customer
side as one vector (``conversation_vector``); a conversation's score is its strongest instance, so
a threat in turn 3 counts as much as one in turn 1. The segments that scored highest are the
evidence. The top logit is turned into a calibrated probability by a Platt layer that also sees
how many instances were scored (the maximum of many scores runs higher than the maximum of a few);
the flag is raised when the probability reaches the head's threshold, chosen on cross-validation
for the quality team's use (precision first for severe signals; ``vocmine.analysis.signals.train``).

Stored as JSON (weights, bias, calibration, threshold, metrics): no pickle. Trained by
``vocmine train signals --data ../shared/data``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocmine.analysis.vectors import conversation_vector
from vocmine.errors import ConfigError
from vocmine.resources import model_dir

DEFAULT_HEADS = model_dir("signals") / "signal_heads.json"
SIGNALS = ("churn_risk", "escalation", "repeat_contact", "high_effort", "extreme_negative", "strong_praise")
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class SignalHead:
    signal: str
    weights: np.ndarray  # (dim,)
    bias: float
    calibration: tuple[float, float, float]  # Platt: sigmoid(a * top logit + b * log(segments) + c)
    threshold: float

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors @ self.weights + self.bias, dtype=np.float64)

    def probability(self, top_logit: float, segments: int) -> float:
        a, b, c = self.calibration
        z = a * top_logit + b * math.log(max(segments, 1)) + c
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class SignalScore:
    signal: str
    probability: float
    flagged: bool
    segments: list[int]  # indices of the segments that drove it, strongest first


class SignalHeads:
    def __init__(self, heads: dict[str, SignalHead], version: str, encoder: str | None) -> None:
        self.heads = heads
        self.version = version
        self.encoder = encoder  # the encoder whose vectors the heads were trained on

    @classmethod
    def load(cls, path: Path = DEFAULT_HEADS) -> SignalHeads:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            heads = {
                name: SignalHead(
                    name,
                    np.asarray(entry["weights"], dtype=np.float32),
                    float(entry["bias"]),
                    (float(entry["calibration"][0]), float(entry["calibration"][1]), float(entry["calibration"][2])),
                    float(entry["threshold"]),
                )
                for name, entry in data["heads"].items()
            }
            return cls(heads, data["version"], data.get("encoder"))
        except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
            raise ConfigError(
                f"cannot load the signal heads from {path}: {exc}",
                hint="train them with `vocmine train signals --data ../shared/data`",
            ) from exc

    def save(self, path: Path, extra: dict[str, object]) -> None:
        payload = {
            "version": self.version,
            "encoder": self.encoder,
            "heads": {
                name: {
                    "weights": head.weights.round(6).tolist(),
                    "bias": round(head.bias, 6),
                    "calibration": [round(v, 6) for v in head.calibration],
                    "threshold": round(head.threshold, 4),
                }
                for name, head in self.heads.items()
            },
            **extra,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload), encoding="utf-8")

    def score(self, vectors: np.ndarray, allowed: dict[str, np.ndarray] | None = None) -> list[SignalScore]:
        """Each signal's score over one conversation's customer segments (rows of ``vectors``).
        ``allowed[signal]`` is a boolean mask of the segments that may raise it (rules can suppress
        the model on a segment); a signal with no allowed segment scores 0."""
        scores = []
        for name, head in self.heads.items():
            mask = allowed.get(name) if allowed else None
            index = np.flatnonzero(mask) if mask is not None else np.arange(len(vectors))
            if len(index) == 0:
                scores.append(SignalScore(name, 0.0, False, []))
                continue
            logits = head.logits(vectors[index])
            order = np.argsort(-logits)
            top, instances = float(logits[order[0]]), len(index)
            if len(index) > 1:
                top = max(top, float(head.logits(conversation_vector(vectors[index])[None, :])[0]))
                instances += 1
            probability = head.probability(top, instances)
            flagged = probability >= head.threshold
            # Evidence: the strongest segment, and any other that would raise the flag on its own.
            drivers = [int(index[order[0]])] + [
                int(index[i]) for i in order[1:MAX_EVIDENCE] if head.probability(float(logits[i]), 1) >= head.threshold
            ]
            scores.append(SignalScore(name, round(probability, 4), flagged, drivers))
        return scores

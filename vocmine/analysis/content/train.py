"""Train and measure the content filter's head: ``vocmine train content --data ../shared/data``.

Data: the hand-labelled real segments in ``models/content/labels.jsonl`` (ids and labels only; the
texts are read back from the data folder). Measured by 5-fold stratified cross-validation: each
segment is scored by a head that never saw it. The threshold is set so that the cross-validated
head keeps ``CONTENT_RECALL`` of the content segments; the word rule is added on top.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.content.data import segment_texts
from vocmine.analysis.content.filter import DEFAULT_HEAD, ContentFilter, features
from vocmine.analysis.content.rules import is_rule_filler
from vocmine.analysis.encoder import Encoder
from vocmine.errors import ConfigError

LABELS = DEFAULT_HEAD.parent / "labels.jsonl"
CONTENT_RECALL = 0.95
C = 1.0
VERSION = "content-linear-1"


def load_labelled(data: Path, labels: Path = LABELS) -> tuple[list[str], list[str], np.ndarray]:
    """(segment ids, texts, 1 for filler) of the labelled sample."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = segment_texts(data, {r["id"] for r in rows})
    missing = [r["id"] for r in rows if r["id"] not in texts]
    if missing:
        raise ConfigError(
            f"{len(missing)} labelled segments are not in {data} (e.g. {missing[0]})",
            hint="pass the shared data folder the labels were drawn from (../shared/data)",
        )
    ids = [r["id"] for r in rows]
    return ids, [texts[i] for i in ids], np.array([r["label"] == "filler" for r in rows], dtype=np.int64)


def classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000, C=C, class_weight="balanced")


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    probability = np.zeros(len(y), dtype=np.float64)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        probability[test] = classifier().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return probability


def scores(predicted: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Filler precision and recall, and the share of content kept (what themes must not lose)."""
    filler, content = y == 1, y == 0
    caught = predicted & filler
    return {
        "filler_precision": round(float(caught.sum() / max(1, predicted.sum())), 4),
        "filler_recall": round(float(caught.sum() / max(1, filler.sum())), 4),
        "content_kept": round(float((~predicted & content).sum() / max(1, content.sum())), 4),
        "accuracy": round(float((predicted == filler).mean()), 4),
    }


def evaluate(ids: list[str], texts: list[str], vectors: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Cross-validated figures for the rule alone, the head alone and both, overall and by source,
    with the threshold the training picks."""
    probability = out_of_fold(features(texts, vectors), y)
    threshold = float(np.quantile(probability[y == 0], CONTENT_RECALL))
    rule = np.array([is_rule_filler(t) for t in texts], dtype=bool)
    head = probability >= threshold
    both = rule | head
    sources = np.array([i.split(":", 1)[0] for i in ids])
    return {
        "segments": len(y),
        "filler": int(y.sum()),
        "threshold": round(threshold, 4),
        "rule": scores(rule, y),
        "head": scores(head, y),
        "rule_or_head": scores(both, y),
        "by_source": {s: scores(both[sources == s], y[sources == s]) for s in sorted(set(sources))},
    }


def train_content_head(data: Path, encoder: Encoder, output: Path = DEFAULT_HEAD) -> dict[str, Any]:
    ids, texts, y = load_labelled(data)
    vectors = encoder.encode(texts)
    metrics = evaluate(ids, texts, vectors, y)
    final = classifier().fit(features(texts, vectors), y)
    head = ContentFilter(
        weights=final.coef_[0],
        bias=float(final.intercept_[0]),
        threshold=metrics["threshold"],
        version=f"{VERSION} on {encoder.version}",
        encoder=encoder.version,
    )
    metrics["encoder"] = encoder.version
    head.save(output, metrics)
    return metrics

"""Train and measure the journey-stage head: ``vocmine train journey --data ../shared/data``.

Training data:

* our seed set, ``models/journey/seed_examples.jsonl``: 42 written examples per stage across the
  four channels and several industries;
* examples labelled from ``../shared/data/bitext_cs`` by intent, for the intents whose stage is
  unambiguous under the definitions (``BITEXT_STAGES``), 40 per intent chosen by a hash of the text.
  Bitext has no use, awareness or advocacy intents, so those stages rest on the seed set.

Measured: 5-fold stratified cross-validated macro-F1 on the seed set, on seed + Bitext, and the
seed-trained head scored on the Bitext examples (a different source: the generalisation figure).
The confidence threshold below which a prediction is "unknown" keeps 90% of cross-validated
predictions.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np

from vocmine.analysis.encoder import Encoder
from vocmine.analysis.journey import DEFAULT_HEAD, STAGES, JourneyHead

SEED_FILE = DEFAULT_HEAD.parent / "seed_examples.jsonl"
BITEXT_STAGES = {
    "check_payment_methods": "consideration",
    "check_refund_policy": "consideration",
    "delivery_options": "consideration",
    "check_cancellation_fee": "consideration",
    "place_order": "purchase",
    "payment_issue": "purchase",
    "registration_problems": "purchase",
    "create_account": "purchase",
    "get_refund": "support",
    "track_refund": "support",
    "cancel_order": "support",
    "change_order": "support",
    "complaint": "support",
    "recover_password": "support",
    "change_shipping_address": "support",
}
PER_INTENT = 40
KEEP_SHARE = 0.9


def load_seed(path: Path = SEED_FILE) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(STAGES.index(row["stage"]))
    return texts, labels


def load_bitext(data: Path) -> tuple[list[str], list[int]]:
    path = data / "bitext_cs" / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
    by_intent: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["intent"] in BITEXT_STAGES:
                by_intent.setdefault(row["intent"], []).append(row["utterance"].strip())
    texts, labels = [], []
    for intent, utterances in sorted(by_intent.items()):
        chosen = sorted(set(utterances), key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:PER_INTENT]
        texts += chosen
        labels += [STAGES.index(BITEXT_STAGES[intent])] * len(chosen)
    return texts, labels


def _classifier():  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=3000, C=4.0, class_weight="balanced")


def cross_validated(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Macro-F1 of 5-fold stratified CV and the out-of-fold probabilities."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    probabilities = np.zeros((len(y), len(STAGES)))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        model = _classifier().fit(x[train], y[train])
        probabilities[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
    return float(f1_score(y, probabilities.argmax(1), average="macro")), probabilities


def train(data: Path, out: Path = DEFAULT_HEAD, encoder: Encoder | None = None) -> dict[str, object]:
    from sklearn.metrics import f1_score

    encoder = encoder or Encoder()
    seed_texts, seed_labels = load_seed()
    bitext_texts, bitext_labels = load_bitext(data)
    seed_x, bitext_x = encoder.encode(seed_texts), encoder.encode(bitext_texts)
    seed_y, bitext_y = np.array(seed_labels), np.array(bitext_labels)

    seed_f1, _ = cross_validated(seed_x, seed_y)
    all_x, all_y = np.vstack([seed_x, bitext_x]), np.concatenate([seed_y, bitext_y])
    combined_f1, combined_probabilities = cross_validated(all_x, all_y)
    on_seed = _classifier().fit(seed_x, seed_y)
    bitext_present = sorted(set(bitext_labels))
    transfer_f1 = float(f1_score(bitext_y, on_seed.predict(bitext_x), average="macro", labels=bitext_present))

    confidence = combined_probabilities.max(axis=1)
    threshold = float(np.quantile(confidence, 1 - KEEP_SHARE))
    kept = confidence >= threshold
    kept_accuracy = float((combined_probabilities.argmax(1)[kept] == all_y[kept]).mean())

    final = _classifier().fit(all_x, all_y)
    weights = np.zeros((len(STAGES), all_x.shape[1]))
    bias = np.zeros(len(STAGES))
    weights[final.classes_] = final.coef_
    bias[final.classes_] = final.intercept_
    metrics = {
        "seed_examples": len(seed_texts),
        "bitext_examples": len(bitext_texts),
        "cv_macro_f1_seed": round(seed_f1, 4),
        "cv_macro_f1_seed_plus_bitext": round(combined_f1, 4),
        "seed_trained_macro_f1_on_bitext": round(transfer_f1, 4),
        "threshold": round(threshold, 4),
        "accuracy_above_threshold_cv": round(kept_accuracy, 4),
        "share_unknown_cv": round(float((~kept).mean()), 4),
        "encoder": encoder.version,
    }
    head = JourneyHead(weights, bias, threshold, version=f"journey-linear-1 on {encoder.version}")
    head.save(out, {"metrics": metrics})
    return metrics

"""Sentiment quality on held-out airline folds: the shipped recipe retrained without one fold.

    python bench/sentiment_airline_folds.py --data ../shared/data --folds 5 --run 0 1

The deduplicated airline tweets of the training pool are split into ``--folds`` folds by a hash of
their folded text (stable across runs and machines). For each fold named by ``--run`` the sentiment
layers are trained exactly as ``vocmine train sentiment`` does, on the pool without that fold, into
a temporary folder (the shipped model is not touched; the head refit on the written escalation
examples leaves the fold out too), and the fold is scored: macro-F1 and macro-recall, VADER on the
same fold in the same run. One fold costs one training run (≈ 22 min on
2 cores), so folds can be run in separate invocations; results are merged into
``bench/results/sentiment_airline_folds.json`` by fold number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vocmine.analysis.sentiment.data import LABELS, Example, fold, training_pool  # noqa: E402
from vocmine.analysis.sentiment.train import train  # noqa: E402
from vocmine.schema import stable_hash  # noqa: E402


def fold_of(example: Example, folds: int) -> int:
    return int(stable_hash(fold(example.text), length=8), 16) % folds


def vader_scores(examples: list[Example]) -> dict[str, float]:
    from sklearn.metrics import f1_score, recall_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    predicted = []
    for example in examples:
        compound = analyzer.polarity_scores(example.text)["compound"]
        predicted.append(0 if compound <= -0.05 else 2 if compound >= 0.05 else 1)
    truth = [e.label for e in examples]
    return {
        "macro_recall": round(float(recall_score(truth, predicted, average="macro")), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--run", type=int, nargs="+", required=True, help="which folds to run (0-based)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sentiment_airline_folds.json")
    args = parser.parse_args()

    pool, _ = training_pool(args.data)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {"folds": {}}
    results["protocol"] = f"{args.folds} folds of the deduplicated airline tweets by text hash; shipped recipe"
    for k in args.run:
        held = [e for e in pool if e.source == "airline" and fold_of(e, args.folds) == k]

        def holdout(example: Example, k: int = k) -> bool:
            return example.source == "airline" and fold_of(example, args.folds) == k

        with tempfile.TemporaryDirectory() as tmp:
            card = train(args.data, Path(tmp), holdout=holdout)
        last = card["history"][-1]  # type: ignore[index]
        refit = card["head_refit"]  # type: ignore[index]
        results["folds"][str(k)] = {
            "examples": len(held),
            "labels": {label: sum(e.label == i for e in held) for i, label in enumerate(LABELS)},
            "model": refit["heldout_after"],
            "model_before_head_refit": {
                "macro_f1": last["heldout_macro_f1"],
                "macro_recall": last["heldout_macro_recall"],
            },
            "vader": vader_scores(held),
            "tweeteval_val_macro_recall": refit["tweeteval_val_after"]["macro_recall"],
            "train_minutes": card["train_minutes"],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"fold {k}: {results['folds'][str(k)]}", flush=True)

    done = results["folds"]
    print(f"\n{'fold':>4} {'n':>6} {'model F1':>9} {'VADER F1':>9} {'model recall':>13}")
    for k in sorted(done, key=int):
        row = done[k]
        print(
            f"{k:>4} {row['examples']:>6} {row['model']['macro_f1']:>9.3f} {row['vader']['macro_f1']:>9.3f} "
            f"{row['model']['macro_recall']:>13.3f}"
        )


if __name__ == "__main__":
    main()

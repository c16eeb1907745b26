"""What the head refit on our written escalation examples does to the airline folds, cheaply.

    python bench/sentiment_head_refit_folds.py --data ../shared/data [--cache var/sentiment_head_inputs.npz]

The airline-fold figures of the model card (``bench/sentiment_airline_folds.py``) come from one
fine-tuning run per fold (~22 min each). The refit changes only the head, so its effect can be
measured on the shipped layer without five runs: for each fold, the head is refitted on the tweets
without that fold, once with the written examples (``EXAMPLE_REPEAT`` times) and once without any,
and both are scored on the fold in the same run. The shipped layer was fine-tuned on every airline
tweet, so the absolute figures here are optimistic; the difference between the two heads is the
measurement. The head inputs (one pass of the model over ~60,000 tweets, ~15 min on 2 cores) are
cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sentiment_airline_folds import fold_of  # noqa: E402

from vocmine.analysis.sentiment.data import training_pool  # noqa: E402
from vocmine.analysis.sentiment.head_refit import EXAMPLE_REPEAT, fit_head, load_examples, scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "sentiment_head_inputs.npz")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sentiment_head_refit_folds.json")
    args = parser.parse_args()

    from vocmine.analysis.sentiment.model import SentimentModel

    pool, _ = training_pool(args.data)
    texts, y_examples = load_examples()
    if args.cache.exists():
        cached = np.load(args.cache)
        x_pool, x_examples = cached["pool"], cached["examples"]
    else:
        model = SentimentModel()
        x_pool, x_examples = model.head_inputs([e.text for e in pool]), model.head_inputs(texts)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.cache, pool=x_pool, examples=x_examples)
    if len(x_pool) != len(pool) or len(x_examples) != len(texts):
        raise SystemExit(f"{args.cache} was made from other data: delete it and run again")
    y_pool = np.array([e.label for e in pool])
    folds = np.array([fold_of(e, args.folds) if e.source == "airline" else -1 for e in pool])

    results: dict[str, object] = {"example_repeat": EXAMPLE_REPEAT, "folds": {}}
    for k in range(args.folds):
        train, held = folds != k, folds == k
        truth = y_pool[held].tolist()
        without = scores(x_pool[held], truth, *fit_head(x_pool[train], y_pool[train], x_examples, y_examples, 0))
        refitted = scores(
            x_pool[held], truth, *fit_head(x_pool[train], y_pool[train], x_examples, y_examples, EXAMPLE_REPEAT)
        )
        results["folds"][str(k)] = {  # type: ignore[index]
            "examples": int(held.sum()),
            "head_without_examples": without,
            "head_with_examples": refitted,
            "macro_f1_change": round(refitted["macro_f1"] - without["macro_f1"], 4),
        }
        print(f"fold {k}: {results['folds'][str(k)]}", flush=True)  # type: ignore[index]
    changes = [row["macro_f1_change"] for row in results["folds"].values()]  # type: ignore[attr-defined]
    results["mean_macro_f1_change"] = round(float(np.mean(changes)), 4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"mean macro-F1 change on the held-out airline folds: {results['mean_macro_f1_change']:+.4f}")


if __name__ == "__main__":
    main()

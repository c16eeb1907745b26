"""How well the content filter tells filler from content on real, hand-labelled segments
(models/content/labels.jsonl; guide in docs/content_segments.md): 5-fold cross-validated filler
precision and recall, and the share of content kept, for the word rule alone, the learned head
alone and both (what the product runs), overall and per source.

    python bench/content_filter.py ../shared/data [--first-round 798]

``--first-round N`` also asks whether more labels help, on segments no head saw: the labels file
holds the first labelling round (its first N lines) and then a second round; the second round is cut
in two halves, and each half is scored by a head trained on the first round alone and by one trained
on the first round plus the other half (each head's threshold set by its own cross-validation, as
training does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from vocmine.analysis.content.filter import features  # noqa: E402
from vocmine.analysis.content.rules import is_rule_filler  # noqa: E402
from vocmine.analysis.content.train import CONTENT_RECALL, classifier, evaluate, load_labelled, out_of_fold, scores  # noqa: E402
from vocmine.analysis.encoder import Encoder  # noqa: E402


def more_labels(texts: list[str], vectors: np.ndarray, y: np.ndarray, first_round: int) -> dict[str, object]:
    """Each half of the second round scored by a head trained without it, with and without the other half."""
    x = features(texts, vectors)
    rule = np.array([is_rule_filler(t) for t in texts], dtype=bool)
    first = np.arange(first_round)
    second = np.arange(first_round, len(y))
    halves = np.array_split(second, 2)

    def trained_on(train: np.ndarray, test: np.ndarray) -> dict[str, float]:
        held_out = out_of_fold(x[train], y[train])
        threshold = float(np.quantile(held_out[y[train] == 0], CONTENT_RECALL))
        probability = classifier().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        return scores((probability >= threshold) | rule[test], y[test])

    result: dict[str, object] = {"first_round": first_round, "second_round": len(second)}
    for n, (test, other) in enumerate(((halves[0], halves[1]), (halves[1], halves[0])), start=1):
        result[f"half_{n}"] = {
            "segments": len(test),
            "first_round_only": trained_on(first, test),
            "first_round_and_other_half": trained_on(np.concatenate([first, other]), test),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "content_filter.json")
    parser.add_argument("--first-round", type=int, help="lines of the labels file from the first labelling round")
    args = parser.parse_args()
    ids, texts, y = load_labelled(args.data)
    vectors = Encoder().encode(texts)
    metrics = evaluate(ids, texts, vectors, y)
    print(f"{metrics['segments']} labelled segments, {metrics['filler']} filler; threshold {metrics['threshold']}")
    print(f"{'':14} {'filler P':>9} {'filler R':>9} {'content kept':>13}")
    rows = [(name, metrics[name]) for name in ("rule", "head", "rule_or_head")]
    rows += [(f"  {source}", row) for source, row in metrics["by_source"].items()]
    for name, row in rows:
        print(f"{name:14} {row['filler_precision']:9.3f} {row['filler_recall']:9.3f} {row['content_kept']:13.3f}")
    if args.first_round:
        metrics["more_labels"] = curve = more_labels(texts, vectors, y, args.first_round)
        print(f"second round, each half held out (first round: {args.first_round} segments):")
        for half in ("half_1", "half_2"):
            for name, row in curve[half].items():  # type: ignore[index]
                if name != "segments":
                    print(
                        f"  {half} {name:28} {row['filler_precision']:9.3f} {row['filler_recall']:9.3f} "
                        f"{row['content_kept']:13.3f}"
                    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

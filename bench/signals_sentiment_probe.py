"""Would the sentiment model make a good learned score behind two signal rules? A probe.

    python bench/signals_sentiment_probe.py --data ../shared/data

For the hand-labelled signal samples (models/signals/), raises ``extreme_negative`` when the rules
do or when any segment's sentiment score is at or below a threshold, and ``strong_praise`` when the
rules do or a segment scores at or above one; prints precision and recall per threshold beside the
rules alone. Finding (2026-11-22): recall rises, precision falls to 0.2–0.5, because the sentiment
score saturates on ordinary complaints and thanks; the rules ship without this backing.
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

from quality import SIGNAL_SAMPLES, _texts  # noqa: E402

from vocmine.analysis.segmenter import split_text  # noqa: E402
from vocmine.analysis.sentiment.model import SentimentModel  # noqa: E402
from vocmine.analysis.signals.rules import SignalDetector  # noqa: E402
from vocmine.schema import Conversation, Turn  # noqa: E402

THRESHOLDS = {"extreme_negative": (-0.8, -0.9, -0.95, -0.97), "strong_praise": (0.8, 0.9, 0.95, 0.97)}


def _pr(truth: list[bool], guess: list[bool]) -> str:
    tp = sum(t and g for t, g in zip(truth, guess, strict=True))
    precision = tp / sum(guess) if sum(guess) else float("nan")
    recall = tp / sum(truth) if sum(truth) else float("nan")
    return f"flagged {sum(guess):3}  P {precision:.2f}  R {recall:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    texts, detector, model = _texts(args.data), SignalDetector.load(), SentimentModel()
    for sample, path in SIGNAL_SAMPLES.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        items = [texts[(r["source"], r["id"])] for r in rows]
        segments = [[t[a:b] for a, b in split_text(t)] for t in items]
        scores = iter(p.score for p in model.predict([s for group in segments for s in group]))
        per_text = [[next(scores) for _ in group] for group in segments]
        flagged = [
            {
                f.signal
                for f in detector.detect(
                    Conversation(id="x", channel="social", source="probe", turns=[Turn(role="customer", text=t)])
                )
            }
            for t in items
        ]
        for signal, thresholds in THRESHOLDS.items():
            truth = [signal in r["signals"] for r in rows]
            rules = [signal in f for f in flagged]
            print(f"{sample:5} {signal:17} rules only          {_pr(truth, rules)}")
            for threshold in thresholds:
                backed = [
                    rule or any((s <= threshold) if threshold < 0 else (s >= threshold) for s in seg)
                    for rule, seg in zip(rules, per_text, strict=True)
                ]
                print(f"{sample:5} {signal:17} rules or score {threshold:+.2f} {_pr(truth, backed)}")


if __name__ == "__main__":
    main()

"""Draw the reproducible sample of real customer messages labelled for signals and journey stage
(models/signals/labels.jsonl; guide in models/signals/LABELLING_GUIDE.md) and write it as batches
for the labellers. Texts stay outside the repository: the batches go to --out, the labels keep only
source and id.

Per source, part of the sample is drawn at random (the natural mix) and part from messages with a
broad cue word (cancel, manager, again, hold, worst, love …), because signals are rare in random
traffic (churn and escalation are ~1–4% of airline tweets) and a head needs positives to learn
from. The cue list is deliberately wider than the signal rules, so the positives are not only the
ones a rule already finds. Bitext's "cued" part is drawn from the intents that map onto signals.

    python bench/signals_label_sample.py --data ../shared/data --seed 7 --out var/signal_batches
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import csv

from label_batches import draw_sample, write_batches

from vocmine.analysis.real_texts import load_real_texts

# source: (random, cued, messages per batch)
PLAN = {
    "airline": (300, 400, 240),
    "twcs": (250, 350, 300),
    "bitext": (350, 100, 450),
    "banking77": (300, 100, 400),
    "cfpb": (150, 100, 125),
}
CUES = re.compile(
    r"cancel|switch|leav|never\b.*\bagain|done with|close (my|the) account|delete|manager|supervisor|"
    r"\bhuman\b|real person|lawyer|attorney|\bsue\b|legal|complain|\bbbb\b|\bfcc\b|\bfaa\b|\bdot\b|"
    r"report(ing)? you|again|still|\btimes\b|\bhold\b|hours?\b|transfer|no one|nobody|called|calling|"
    r"emailed|worst|horrible|terrible|disgust|ridiculous|pathetic|joke|furious|unacceptable|amazing|"
    r"awesome|love|best|fantastic|excellent|thank",
    re.IGNORECASE,
)
BITEXT_CUED_INTENTS = {"complaint", "contact_human_agent", "delete_account", "cancel_order", "review"}
LABELLED_BEFORE = ("labelled_dev_sample.jsonl", "labelled_test_sample.jsonl")


def bitext_intents(data: Path) -> dict[str, str]:
    path = data / "bitext_cs" / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {str(n): row["intent"] for n, row in enumerate(csv.DictReader(handle), start=1)}


def draw(data: Path, seed: int) -> dict[str, list[tuple[str, str]]]:
    texts = load_real_texts(data, sources=PLAN)
    models = Path(__file__).resolve().parents[1] / "models" / "signals"
    seen_keys = {
        (row["source"], row["id"])
        for name in LABELLED_BEFORE
        for row in map(json.loads, (models / name).read_text(encoding="utf-8").splitlines())
    }
    intents = bitext_intents(data)

    def cued(key: tuple[str, str]) -> bool:
        if key[0] == "bitext":
            return intents[key[1]] in BITEXT_CUED_INTENTS
        return bool(CUES.search(texts[key]))

    return draw_sample(texts, PLAN, seen_keys, set(), cued, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = load_real_texts(args.data, sources=PLAN)
    write_batches(args.out, draw(args.data, args.seed), texts, {s: p[2] for s, p in PLAN.items()}, args.seed)


if __name__ == "__main__":
    main()

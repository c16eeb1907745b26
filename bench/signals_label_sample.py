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

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_batches import Draw, Texts, draw_sample, intents_by_row, labelled_keys, sampler_main

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


def draw(texts: Texts, data: Path, seed: int) -> Draw:
    models = Path(__file__).resolve().parents[1] / "models" / "signals"
    seen_keys = labelled_keys(models / name for name in LABELLED_BEFORE)
    bitext = data / "bitext_cs" / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
    intents = intents_by_row(bitext, "intent", encoding="utf-8-sig")

    def cued(key: tuple[str, str]) -> bool:
        if key[0] == "bitext":
            return intents[key[1]] in BITEXT_CUED_INTENTS
        return bool(CUES.search(texts[key]))

    return draw_sample(texts, PLAN, seen_keys, set(), cued, seed)


if __name__ == "__main__":
    sampler_main(__doc__ or "", PLAN, 7, draw)

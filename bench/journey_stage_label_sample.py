"""Draw the second, stage-only sample of real customer messages (models/journey/stage_labels.jsonl;
guide: the "Journey stage" section of models/signals/LABELLING_GUIDE.md) and write it as batches
for the labellers. Texts stay outside the repository: the batches go to --out, the labels keep only
source and id.

Why a second sample: the first one (models/signals/labels.jsonl) was drawn for signals, so its
stages are what random traffic to a brand carries: support and use. Purchase (51 real messages)
and advocacy (58) were too few to learn, and they were the weak stages (cross-validated F1 0.34 and
0.42). Here, per source, part is drawn at random (the natural mix) and part from messages with a
cue of the rarer stages (book, order, sign up, price, recommend, love …; for Banking77 the intents
about getting a card, a top-up or what is supported). Messages labelled before are never drawn
again, and each text once.

    python bench/journey_stage_label_sample.py --data ../shared/data --seed 11 --out var/journey_batches
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
    "airline": (80, 220, 150),
    "twcs": (80, 220, 150),
    "restaurants": (50, 100, 150),
    "banking77": (30, 120, 150),
    "cfpb": (20, 30, 50),
}
CUES = re.compile(
    r"\bbook(ed|ing)?\b|reserv|\bbought\b|\bbuy(ing)?\b|purchas|\border(ed|ing)?\b|checkout|check out|"
    r"\bpaid\b|\bpay(ing|ment)?\b|sign(ed)? up|subscri|upgrad|ticket|\bfare|price|cost|how much|"
    r"\bdeal\b|promo|discount|offer|\bplan\b|thinking (of|about)|looking (for|to)|considering|"
    r"\bcompare|\bvs\.?\b|do you (have|sell|ship|offer|fly)|can i (get|buy|use)|first time|new customer|"
    r"recommend|\blove\b|\bbest\b|favou?rite|always fly|loyal|fan\b|\bwill be back|go back|"
    r"highly|must try|worth",
    re.IGNORECASE,
)
# Banking77 intents about acquiring something or asking what is offered, before or while signing up.
BANKING77_CUED_INTENTS = {
    "order_physical_card",
    "getting_virtual_card",
    "getting_spare_card",
    "get_physical_card",
    "supported_cards_and_currencies",
    "fiat_currency_support",
    "country_support",
    "age_limit",
    "visa_or_mastercard",
    "exchange_rate",
    "top_up_limits",
    "topping_up_by_card",
    "disposable_card_limits",
    "exchange_charge",
    "receiving_money",
    "apple_pay_or_google_pay",
    "verify_my_identity",
}
LABELLED_BEFORE = (
    Path("models/signals/labels.jsonl"),
    Path("models/signals/labelled_dev_sample.jsonl"),
    Path("models/signals/labelled_test_sample.jsonl"),
    Path("models/journey/real_examples.jsonl"),
)


def draw(texts: Texts, data: Path, seed: int) -> Draw:
    root = Path(__file__).resolve().parents[1]
    seen_keys = labelled_keys(root / path for path in LABELLED_BEFORE)
    seen_texts = {" ".join(texts[key].lower().split()) for key in seen_keys if key in texts}
    intents = intents_by_row(data / "banking77" / "train.csv", "category")

    def cued(key: tuple[str, str]) -> bool:
        if key[0] == "banking77":
            return intents[key[1]] in BANKING77_CUED_INTENTS
        return bool(CUES.search(texts[key]))

    return draw_sample(texts, PLAN, seen_keys, seen_texts, cued, seed)


if __name__ == "__main__":
    sampler_main(__doc__ or "", PLAN, 11, draw)

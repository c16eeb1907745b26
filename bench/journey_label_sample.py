"""Print a reproducible random sample of real customer texts from ../shared/data for hand-labelling
with journey stages (the labels, by source and id, go to models/journey/real_examples.jsonl; the
texts are never copied into the repository: training reads them back by id).

    python bench/journey_label_sample.py --data ../shared/data --seed 1 > var/journey_sample.tsv
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vocmine.analysis.real_texts import load_real_texts

PER_SOURCE = {"twcs": 60, "airline": 50, "restaurants": 40, "cfpb": 25, "banking77": 25}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts = load_real_texts(args.data)
    for source, count in PER_SOURCE.items():
        keys = sorted(k for k in texts if k[0] == source)
        for key in rng.sample(keys, count):
            print(f"{key[0]}\t{key[1]}\t{' '.join(texts[key].split())[:400]}")


if __name__ == "__main__":
    main()

"""Draw the sample of real customer segments that the content filter is labelled and measured on.

Segments are cut by the product's own segmenter from three real sources in ../shared/data:
customer tweets in support threads (twcs_sample, inbound only), tweets to US airlines, and CFPB
complaint narratives. Filler (thanks, greetings, "any update?") is mostly short, so short segments
(at most 6 words) are drawn at half the sample, so that the rare class is measured on enough cases.

Prints one JSON line per segment, ``{"id": "<source>:<row id>:<segment>", "text": ...}``, in a
seeded random order. The texts are for labelling only: the repository keeps ids and labels
(``models/content/labels.jsonl``) and reads the texts back from the data folder
(``vocmine.analysis.content.real_segments``).

    python bench/content_sample.py ../shared/data --size 800 > /tmp/content_sample.jsonl
    # a further sample, none of it labelled before:
    python bench/content_sample.py ../shared/data --size 1200 --seed 8 --exclude models/content/labels.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vocmine.analysis.content import SOURCES, real_segments  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--size", type=int, default=800)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--exclude", type=Path, help="a labels file (JSON lines with an id) whose segments are not drawn"
    )
    args = parser.parse_args()
    labelled = set()
    if args.exclude:
        labelled = {json.loads(line)["id"] for line in args.exclude.read_text().splitlines() if line.strip()}
    rng = random.Random(args.seed)
    per_source = args.size // len(SOURCES)
    drawn: list[tuple[str, str]] = []
    for source in SOURCES:
        segments = [s for s in real_segments(args.data, source) if s[0] not in labelled]
        short = [s for s in segments if len(s[1].split()) <= 6]
        long = [s for s in segments if len(s[1].split()) > 6]
        take_short = min(len(short), per_source // 2)
        drawn += rng.sample(short, take_short) + rng.sample(long, per_source - take_short)
    rng.shuffle(drawn)
    for segment_id, text in drawn:
        print(json.dumps({"id": segment_id, "text": text}, ensure_ascii=False))


if __name__ == "__main__":
    main()

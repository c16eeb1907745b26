"""What the fine-tuned sentiment layers cost on top of the shared encoder pass, in one process.

Times, interleaved and repeated: the raw encoder alone, the shipped model's shared pass (embedding +
sentiment), and a candidate model directory's shared pass, on the first customer tweets of the TWCS
sample. Model passes only: no store, no cache, no other heads (bench/throughput.py measures the whole
analysis). Usage:

    .venv/bin/python bench/sentiment_layer_cost.py --data ../shared/data --candidate DIR
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--candidate", type=Path, required=True, help="a folder written by the sentiment trainer")
    parser.add_argument("--texts", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from vocmine.analysis.encoder import Encoder
    from vocmine.analysis.sentiment.model import SentimentModel

    texts: list[str] = []
    with open(args.data / "twcs_sample" / "twcs_first5000.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("inbound") == "True":
                texts.append(row["text"])
            if len(texts) >= args.texts:
                break
    encoder, shipped, candidate = Encoder(), SentimentModel(), SentimentModel(args.candidate)

    def timed(run) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        run(texts)
        return time.perf_counter() - started

    for model in (encoder.encode, shipped.analyse, candidate.analyse):
        model(texts[:64])  # load and warm up
    seconds: dict[str, list[float]] = {"encoder": [], "shipped": [], "candidate": []}
    for _ in range(args.repeats):
        seconds["encoder"].append(timed(encoder.encode))
        seconds["shipped"].append(timed(shipped.analyse))
        seconds["candidate"].append(timed(candidate.analyse))
    median = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"{len(texts)} texts, median of {args.repeats} interleaved runs")
    for name in ("encoder", "shipped", "candidate"):
        overhead = median[name] / median["encoder"] - 1
        print(f"  {name:10s} {median[name]:6.1f} s   {overhead:+.1%} vs the encoder alone")


if __name__ == "__main__":
    main()

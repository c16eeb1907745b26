"""How much padding the encoder computes: batches sorted by characters against batches sorted by tokens.

    python bench/padding.py --data ../shared/data [--out bench/results/padding.json]

A transformer batch is padded to its longest text, so the tokens computed are batch size × longest
text, summed over batches. Over the TWCS sample's customer segments, analysed as the analysis reads
them (``analysis_batch`` conversations at a time, their distinct segment texts sorted, then cut into
batches of 64), this reports the tokens computed over the real tokens for both sort keys and for
batches of 128 and 512 conversations. No timing: a count, so it does not move with machine load
(bench/throughput.py times what it saves).
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
sys.path.insert(1, str(ROOT / "bench"))

BATCH = 64


def computed_tokens(token_counts: list[int], order: list[int]) -> int:
    return sum(
        len(order[start : start + BATCH]) * max(token_counts[i] for i in order[start : start + BATCH])
        for start in range(0, len(order), BATCH)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "padding.json")
    args = parser.parse_args()

    from throughput import build_store
    from transformers import AutoTokenizer

    from vocmine.analysis.encoder import DEFAULT_MODEL, model_location
    from vocmine.analysis.segmenter import segment_conversation
    from vocmine.store.sqlite.store import SQLiteStore

    tokenizer = AutoTokenizer.from_pretrained(model_location(DEFAULT_MODEL))
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(str(build_store(args.data, Path(tmp))))
        conversations = [[s.text for s in segment_conversation(c)] for c in store.iter_conversations()]
        store.close()
    results: dict[str, object] = {"corpus": "TWCS sample (first 5,000 rows), customer segments", "batch": BATCH}
    for per_batch in (128, 512):
        real = by_characters = by_tokens = 0
        for start in range(0, len(conversations), per_batch):
            texts = list(dict.fromkeys(t for texts in conversations[start : start + per_batch] for t in texts))
            counts = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
            real += sum(counts)
            by_characters += computed_tokens(counts, sorted(range(len(texts)), key=lambda i: len(texts[i])))
            by_tokens += computed_tokens(counts, sorted(range(len(texts)), key=lambda i: counts[i]))
        results[f"{per_batch}_conversations_per_batch"] = {
            "real_tokens": real,
            "computed_sorted_by_characters": round(by_characters / real, 3),
            "computed_sorted_by_tokens": round(by_tokens / real, 3),
        }
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

"""How well the content filter tells filler from content on real, hand-labelled segments
(models/content/labels.jsonl; guide in docs/content_segments.md): 5-fold cross-validated filler
precision and recall, and the share of content kept, for the word rule alone, the learned head
alone and both (what the product runs), overall and per source.

    python bench/content_filter.py ../shared/data
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

from vocmine.analysis.content.train import evaluate, load_labelled  # noqa: E402
from vocmine.analysis.encoder import Encoder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "content_filter.json")
    args = parser.parse_args()
    ids, texts, y = load_labelled(args.data)
    metrics = evaluate(ids, texts, Encoder().encode(texts), y)
    print(f"{metrics['segments']} labelled segments, {metrics['filler']} filler; threshold {metrics['threshold']}")
    print(f"{'':14} {'filler P':>9} {'filler R':>9} {'content kept':>13}")
    rows = [(name, metrics[name]) for name in ("rule", "head", "rule_or_head")]
    rows += [(f"  {source}", row) for source, row in metrics["by_source"].items()]
    for name, row in rows:
        print(f"{name:14} {row['filler_precision']:9.3f} {row['filler_recall']:9.3f} {row['content_kept']:13.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Journey stages on the demo store: how often the analysis gives a conversation the stage its
planted theme belongs to, per stage (what a funnel view built on the demo would show).

    python bench/journey_demo.py var/demo/vocmine.sqlite [more stores, e.g. one analysed by an older commit]

Each demo theme has the stage it usually belongs to (``vocmine.demo.phrases``; billing problems are
support, plan questions consideration, sign-ups purchase …). A conversation's planted theme is the
one whose sentences it contains most; its planted stage that theme's. Per planted stage: how many
conversations, the share the analysis staged the same (recall), the share it left unknown; and the
macro-F1 over the stages, with the stored model version so two stores can be compared in one run.
The planted stage is what a theme *usually* is, so 1.0 is not the ceiling a perfect model reaches.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(store: Path) -> dict[str, object]:
    from sklearn.metrics import f1_score

    from vocmine.demo.phrases import THEMES

    sentences = [
        (s, t.stage) for t in THEMES for group in (t.cores, t.details, t.closings) for s in group if "{" not in s
    ]
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    planted: dict[str, Counter[str]] = {}
    for conversation_id, text in conn.execute("SELECT conversation_id, text FROM segments"):
        stage = next((stage for sentence, stage in sentences if sentence in text), None)
        if stage:
            planted.setdefault(conversation_id, Counter())[stage] += 1
    found = dict(conn.execute("SELECT conversation_id, stage FROM analyses"))
    versions = {
        row[0] for row in conn.execute("SELECT DISTINCT json_extract(doc, '$.model_versions.journey') FROM analyses")
    }
    pairs = [(counts.most_common(1)[0][0], found[cid]) for cid, counts in planted.items() if cid in found]
    stages = sorted({p for p, _ in pairs})
    by_stage = {
        stage: {
            "conversations": sum(p == stage for p, _ in pairs),
            "recall": round(sum(p == stage and f == stage for p, f in pairs) / sum(p == stage for p, _ in pairs), 3),
            "unknown": round(
                sum(p == stage and f == "unknown" for p, f in pairs) / sum(p == stage for p, _ in pairs), 3
            ),
        }
        for stage in stages
    }
    return {
        "store": str(store),
        "journey_versions": sorted(v for v in versions if v),
        "conversations": len(pairs),
        "macro_f1": round(
            float(f1_score([p for p, _ in pairs], [f for _, f in pairs], average="macro", labels=stages)), 4
        ),
        "by_planted_stage": by_stage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", type=Path, nargs="+")
    args = parser.parse_args()
    for store in args.stores:
        print(json.dumps(measure(store), indent=2))


if __name__ == "__main__":
    main()

"""Merge the two labelling passes and the adjudication into models/signals/labels.jsonl, and report
agreement (Cohen's kappa per signal and for the stage) between the passes.

Each output line: source, id, how the message was drawn (``sample``), the final ``signals`` and
``stage``, and – only where a pass differs from the final labels – that pass's labels (``pass1``,
``pass2``), so agreement can be recomputed from the file alone:

    python bench/signals_label_merge.py --batches var/signal_batches --pass1 P1 --pass2 P2 \
        --adjudicated ADJ --out models/signals/labels.jsonl
    python bench/signals_label_merge.py --agreement models/signals/labels.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SIGNALS = ("churn_risk", "escalation", "repeat_contact", "high_effort", "extreme_negative", "strong_praise")


def _rows(folder: Path) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    rows = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[(row["source"], str(row["id"]))] = {"signals": sorted(row["signals"]), "stage": row["stage"]}
    return rows


def kappa(first: list[object], second: list[object]) -> float:
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    chance = sum((first.count(c) / n) * (second.count(c) / n) for c in set(first) | set(second))
    return (observed - chance) / (1 - chance) if chance < 1 else 1.0


def agreement(labels: Path) -> dict[str, object]:
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    first = [row.get("pass1", row) for row in rows]
    second = [row.get("pass2", row) for row in rows]
    report: dict[str, object] = {"messages": len(rows)}
    for signal in SIGNALS:
        a = [signal in r["signals"] for r in first]
        b = [signal in r["signals"] for r in second]
        report[signal] = {
            "kappa": round(kappa(a, b), 3),  # type: ignore[arg-type]
            "pass1": sum(a),
            "pass2": sum(b),
            "final": sum(signal in r["signals"] for r in rows),
        }
    stages_a = [r["stage"] for r in first]
    stages_b = [r["stage"] for r in second]
    report["stage"] = {
        "kappa": round(kappa(stages_a, stages_b), 3),  # type: ignore[arg-type]
        "agreement": round(sum(a == b for a, b in zip(stages_a, stages_b, strict=True)) / len(rows), 3),
    }
    report["messages_with_any_disagreement"] = sum(
        (a["signals"], a["stage"]) != (b["signals"], b["stage"]) for a, b in zip(first, second, strict=True)
    )
    report["adjudicated"] = sum("pass1" in r or "pass2" in r for r in rows)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=Path, help="the folder bench/signals_label_sample.py wrote (its manifest)")
    parser.add_argument("--pass1", type=Path)
    parser.add_argument("--pass2", type=Path)
    parser.add_argument("--adjudicated", type=Path, help="final labels for the messages the passes disagreed on")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--agreement", type=Path, help="only report agreement from a merged labels file")
    args = parser.parse_args()
    if args.agreement:
        json.dump(agreement(args.agreement), sys.stdout, indent=2)
        print()
        return
    first, second, adjudicated = _rows(args.pass1), _rows(args.pass2), _rows(args.adjudicated)
    manifest = [json.loads(line) for line in (args.batches / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    with args.out.open("w", encoding="utf-8") as out:
        for entry in manifest:
            key = (entry["source"], str(entry["id"]))
            a, b = first[key], second[key]
            final = adjudicated.get(key, a)
            if a != b and key not in adjudicated:
                sys.exit(f"{key}: the passes disagree and there is no adjudicated label")
            row = {"source": key[0], "id": key[1], "sample": entry["sample"], **final}
            for name, labels in (("pass1", a), ("pass2", b)):
                if labels != final:
                    row[name] = labels
            out.write(json.dumps(row) + "\n")
    json.dump(agreement(args.out), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

"""Merge the two stage-labelling passes and the adjudication into models/journey/stage_labels.jsonl,
and report agreement (Cohen's kappa) between the passes.

Each output line: source, id, how the message was drawn (``sample``), the final ``stage``, and – only
where a pass differs from it – that pass's stage (``pass1``, ``pass2``), so agreement can be
recomputed from the file alone:

    python bench/journey_label_merge.py --batches var/journey_batches --pass1 P1 --pass2 P2 \
        --adjudicated ADJ --out models/journey/stage_labels.jsonl
    python bench/journey_label_merge.py --agreement models/journey/stage_labels.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from signals_label_merge import kappa

STAGES = ("awareness", "consideration", "purchase", "use", "support", "advocacy", "unclear")


def _stages(folder: Path) -> dict[tuple[str, str], str]:
    stages = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row["stage"] not in STAGES:
                    raise SystemExit(f"{path}: unknown stage {row['stage']!r} for {row['source']} {row['id']}")
                stages[(row["source"], str(row["id"]))] = row["stage"]
    return stages


def agreement(labels: Path) -> dict[str, object]:
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    first = [row.get("pass1", row["stage"]) for row in rows]
    second = [row.get("pass2", row["stage"]) for row in rows]
    return {
        "messages": len(rows),
        "kappa": round(kappa(first, second), 3),  # type: ignore[arg-type]
        "agreement": round(sum(a == b for a, b in zip(first, second, strict=True)) / len(rows), 3),
        "final_by_stage": {s: sum(row["stage"] == s for row in rows) for s in STAGES},
    }


def merge(batches: Path, pass1: Path, pass2: Path, adjudicated: Path | None, out: Path) -> None:
    manifest = {
        (row["source"], str(row["id"])): row["sample"]
        for row in map(json.loads, (batches / "manifest.jsonl").read_text(encoding="utf-8").splitlines())
    }
    first, second = _stages(pass1), _stages(pass2)
    decided = _stages(adjudicated) if adjudicated else {}
    missing = [key for key in manifest if key not in first or key not in second]
    if missing:
        raise SystemExit(f"{len(missing)} messages lack a label in a pass, e.g. {missing[:3]}")
    with out.open("w", encoding="utf-8") as handle:
        for key, sample in manifest.items():
            a, b = first[key], second[key]
            if a != b and key not in decided:
                raise SystemExit(f"passes disagree on {key} ({a} / {b}) and it was not adjudicated")
            final = a if a == b else decided[key]
            row: dict[str, str] = {"source": key[0], "id": key[1], "sample": sample, "stage": final}
            if a != final:
                row["pass1"] = a
            if b != final:
                row["pass2"] = b
            handle.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=Path)
    parser.add_argument("--pass1", type=Path)
    parser.add_argument("--pass2", type=Path)
    parser.add_argument("--adjudicated", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--agreement", type=Path, help="only report agreement from a merged file")
    args = parser.parse_args()
    if args.agreement:
        print(json.dumps(agreement(args.agreement), indent=2))
        return
    merge(args.batches, args.pass1, args.pass2, args.adjudicated, args.out)
    print(json.dumps(agreement(args.out), indent=2))


if __name__ == "__main__":
    main()

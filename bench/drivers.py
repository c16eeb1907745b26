"""Key drivers of NPS and CSAT on a store, with this checkout's code and an older commit's in the
same run (each side in its own process): the time of one ``key_drivers`` call per metric, and the
intervals of the first themes, so a change of method can be seen to keep the answer.

    python bench/drivers.py var/bench-api/store-1000000.sqlite --old <commit> [--resamples 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sides import call_in_side, worktree  # noqa: E402


def measure(store_path: str, resamples: str) -> dict[str, object]:
    """Runs inside the side's process, with that side's ``vocmine`` on the path."""
    import time

    from vocmine.insights.drivers import key_drivers
    from vocmine.services.insights import theme_map
    from vocmine.store.sqlite.store import SQLiteStore

    store = SQLiteStore(store_path)
    store.prepare_serving()
    table = store.survey_table(None, theme_map(store, "theme"))
    result: dict[str, object] = {"scored_conversations": len(table.nps)}
    for metric in ("nps", "csat"):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = key_drivers(table, metric, resamples=int(resamples))  # type: ignore[arg-type]
            timings.append(time.perf_counter() - started)
        measured = [d for d in report.drivers if d.status == "ok"]
        result[metric] = {
            "seconds_best_of_3": round(min(timings), 3),
            "themes_with_a_number": len(measured),
            "first_removal_intervals": [
                [d.theme_id, d.removal_impact.value, d.removal_impact.low, d.removal_impact.high]
                for d in measured[:5]
                if d.removal_impact is not None
            ],
        }
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="an embedded store with survey scores (opened read-only in effect)")
    parser.add_argument("--old", required=True, help="the commit to compare with")
    parser.add_argument("--resamples", default="1000")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "drivers.json")
    args = parser.parse_args()
    report = {"new": call_in_side(ROOT, "drivers", "measure", str(args.store), args.resamples)}
    with worktree(args.old) as old:
        report["old"] = call_in_side(old, "drivers", "measure", str(args.store), args.resamples)
    report["old_commit"] = args.old
    for metric in ("nps", "csat"):
        old_s, new_s = report["old"][metric]["seconds_best_of_3"], report["new"][metric]["seconds_best_of_3"]
        print(f"{metric}: old {old_s} s, new {new_s} s")
        print(f"  old {report['old'][metric]['first_removal_intervals']}")
        print(f"  new {report['new'][metric]['first_removal_intervals']}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

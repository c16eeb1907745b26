"""Peak memory of ingesting a small compressed file that holds one huge CSV field, old code and new
in the same run (each in its own process, on its own store).

    python bench/ingest_bomb.py --old <commit> [--field-mb 200] [--out bench/results/ingest_bomb.json]

The file: a posts CSV (id, author, text, created_at) whose second row's text is ``--field-mb`` MB of
one letter, gzip-compressed (200 MB compresses to ~0.2 MB). Each side ingests it with the default
record limit and reports its peak resident memory (``ru_maxrss``), the time taken and the
rejection it gave that row; language detection is off on both sides (its model is not what is
measured).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sides import call_in_side, worktree  # noqa: E402


def write_bomb(path: Path, field_mb: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("id,author,text,created_at\n1,alice,a first post,2024-01-01T10:00:00Z\n2,bob,")
        block = "x" * (1 << 20)
        for _ in range(field_mb):
            out.write(block)
        out.write(",2024-01-01T10:01:00Z\n3,carol,a last post,2024-01-01T10:02:00Z\n")


def measure(bomb: str, workdir: str) -> dict[str, object]:
    """Runs inside the side's process, with that side's ``vocmine`` on the path."""
    import resource
    import time

    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    settings = Settings(store=f"sqlite:///{workdir}/store.sqlite", detect_language=False)
    store = SQLiteStore(f"{workdir}/store.sqlite")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = ingest_paths([bomb], settings, store, report_dir=Path(workdir) / "reports")
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb_before_reading": round(before / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "stored": report.records_stored,
        "rejected": report.records_rejected,
        "rejections": [r["reason"] for r in report.rejection_samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="the commit to compare with")
    parser.add_argument("--field-mb", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_bomb.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "posts.csv.gz"
        write_bomb(bomb, args.field_mb)
        results: dict[str, object] = {"field_mb": args.field_mb, "file_bytes": bomb.stat().st_size}
        for side in ("old", "new"):
            workdir = Path(tmp) / side
            workdir.mkdir()
            if side == "old":
                with worktree(args.old) as old_root:
                    results["old"] = call_in_side(old_root, "ingest_bomb", "measure", str(bomb), str(workdir))
            else:
                results["new"] = call_in_side(ROOT, "ingest_bomb", "measure", str(bomb), str(workdir))
            print(side, results[side], flush=True)
    results["old_commit"] = args.old
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

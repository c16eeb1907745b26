"""Ingestion throughput and peak memory, on the demo corpus and on the real TWCS sample.

    python bench/ingest.py --shared ../shared/data [--conversations 3200] [--old COMMIT] [--repeats N]
                           [--large-mbox-mb 100] [--out bench/results/ingest.json]

For each corpus three stages run, each in a fresh process so its peak memory is its own:

* ``read``   – read every input byte (the I/O floor, the baseline the others are compared with);
* ``parse``  – run the format readers (parsing, cleaning, quote stripping), nothing stored;
* ``ingest`` – the full ``vocmine ingest`` path: parse, redact, detect language, thread, write SQLite.

It prints conversations/s, MB/s, the ratio to the read baseline measured in the same run, and peak RSS.
``--large-mbox-mb N`` adds a synthetic mailbox of about N MB (the demo's mbox messages repeated with
fresh Message-IDs) to show that memory does not grow with the size of the input.

``--old COMMIT`` also measures that commit's code (a temporary git worktree, ``bench/sides.py``) in the
same run, stage by stage (this code's stage, then the old code's), and prints the new/old ratios of
ingest MB/s and conversations/s: the machine is shared, so only ratios from one run compare.
``peak worker MB`` is the largest worker process of the ingest stage (``VOCMINE_INGEST_WORKERS``).

``--per-format`` instead prints a table of every format's reader speed: each sample file under
tests/data (one per format and tool, written from the tools' documentation) is detected, then parsed
from memory again and again for ``--seconds`` each; records/s and MB/s per format, and the ratio of
its MB/s to the vocmine JSON reader's in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))


def _input_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())


def run_stage(stage: str, path: Path, workdir: Path) -> dict[str, float]:
    """One stage in this process; returns its timing, counts and peak memory."""
    from vocmine.ingest.inputs.formats import detect_format
    from vocmine.ingest.inputs.sources import expand_inputs
    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    settings = Settings(company_domains=["northwind-telecom.com"], brand_accounts=["NorthwindHelp"])
    files, _ = expand_inputs([str(path)])
    started = time.perf_counter()
    conversations = records = 0
    if stage == "read":
        for source in files:
            with source.open() as stream:
                while stream.read(1 << 20):
                    pass
    elif stage == "parse":
        from vocmine.ingest.records import ReadContext, Rejection

        for source in files:
            with source.open() as stream:
                head = stream.read(65536)
            fmt = detect_format(source.format_name, head)
            if fmt is None:
                continue
            with source.open() as stream:
                for item in fmt.reader(stream, ReadContext(source.name, settings)):
                    records += not isinstance(item, Rejection)
    else:
        store = SQLiteStore(str(workdir / "bench.sqlite"))
        report = ingest_paths([str(path)], settings, store, report_dir=workdir / "reports")
        records = report.records_read
        conversations = report.conversations["new"] + report.conversations["updated"]
        store.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "records": records,
        "conversations": conversations,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # the largest worker process (ingestion's workers, where it starts any)
        "peak_worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def stage_in_side(stage: str, path: str, workdir: str) -> dict[str, float]:
    """``run_stage`` as a side of ``bench/sides.py`` calls it (JSON-friendly arguments)."""
    return run_stage(stage, Path(path), Path(workdir))


def _run(stage: str, path: Path, workdir: Path, side: Path | None) -> dict[str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    if side is not None:
        from sides import call_in_side

        return call_in_side(side, "ingest", "stage_in_side", stage, str(path), str(workdir))  # type: ignore[no-any-return]
    out = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--input", str(path), "--workdir", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _seconds(run: dict[str, float]) -> float:
    return run["seconds"]


def measure(name: str, path: Path, old: Path | None = None, repeats: int = 1) -> dict[str, object]:
    """Every stage in a fresh process; with ``old``, each stage of this code and then of the old, so
    both see the same machine (others share its two cores) as closely as two runs can. With
    ``repeats``, each stage runs that many times a side, alternating, and the median run is kept
    (``runs`` lists every run's seconds): one run of a second or two moves by a third on this machine."""
    size = _input_bytes(path)
    results: dict[str, object] = {"corpus": name, "path": str(path), "bytes": size}
    sides: dict[str, dict[str, dict[str, float]]] = {"new": {}, "old": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for stage in ("read", "parse", "ingest"):
            runs: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
            for round_ in range(repeats):
                for side, root in (("new", ROOT if old else None), ("old", old)):
                    if side == "old" and old is None:
                        continue
                    runs[side].append(_run(stage, path, Path(tmp) / f"{side}-{stage}-{round_}", root))
            for side, measured in runs.items():
                if measured:
                    median = sorted(measured, key=_seconds)[len(measured) // 2]
                    sides[side][stage] = {**median, "runs": [r["seconds"] for r in measured]}  # type: ignore[dict-item]
    for side_results in sides.values():
        if not side_results:
            continue
        read_s = side_results["read"]["seconds"]
        for stage in ("parse", "ingest"):
            entry = side_results[stage]
            entry["mb_per_s"] = size / 1e6 / entry["seconds"]
            entry["times_read_baseline"] = entry["seconds"] / read_s
        ingest = side_results["ingest"]
        ingest["conversations_per_s"] = ingest["conversations"] / ingest["seconds"]
    results.update(sides["new"])
    if old is not None:
        results["old"] = sides["old"]
        results["new_over_old"] = {
            "ingest_mb_per_s": sides["new"]["ingest"]["mb_per_s"] / sides["old"]["ingest"]["mb_per_s"],
            "ingest_conversations_per_s": sides["new"]["ingest"]["conversations_per_s"]
            / sides["old"]["ingest"]["conversations_per_s"],
            "parse_mb_per_s": sides["new"]["parse"]["mb_per_s"] / sides["old"]["parse"]["mb_per_s"],
        }
    return results


def _write_large_mbox(demo: Path, target: Path, size: int) -> None:
    import re

    source = b"".join(p.read_bytes() for p in sorted((demo / "email" / "mbox").glob("*.mbox")))
    ids = re.compile(rb"<([^<>@\s]+@[^<>\s]+)>")
    with target.open("wb") as out:
        copy = 0
        while out.tell() < size:
            out.write(ids.sub(lambda m, c=copy: b"<c%d.%s>" % (c, m.group(1)), source))
            copy += 1


def per_format(seconds: float) -> list[dict[str, object]]:
    """Reader throughput per format over the sample files in tests/data, parsed from memory."""
    import io
    from collections import defaultdict

    from vocmine.ingest.records import ReadContext, Rejection
    from vocmine.testing.samples import SAMPLE_SETTINGS, sample_inputs

    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "records": 0, "bytes": 0, "files": 0})
    for path, data, fmt in sample_inputs(ROOT / "tests" / "data"):
        entry = totals[fmt.name]
        entry["files"] += 1
        started = time.perf_counter()
        while True:
            items = list(fmt.reader(io.BufferedReader(io.BytesIO(data)), ReadContext(path.name, SAMPLE_SETTINGS)))
            entry["records"] += sum(not isinstance(i, Rejection) for i in items)
            entry["bytes"] += len(data)
            if time.perf_counter() - started >= seconds:
                break
        entry["seconds"] += time.perf_counter() - started
    rows = [
        {
            "format": name,
            "files": int(t["files"]),
            "records_per_s": t["records"] / t["seconds"],
            "mb_per_s": t["bytes"] / 1e6 / t["seconds"],
        }
        for name, t in sorted(totals.items())
    ]
    baseline = next((r["mb_per_s"] for r in rows if r["format"] == "chat-json"), None)
    for row in rows:
        row["vs_vocmine_json"] = row["mb_per_s"] / baseline if baseline else None  # type: ignore[operator]
    return rows


def _print_per_format(rows: list[dict[str, object]]) -> None:
    header = f"{'format':28} {'files':>5} {'records/s':>10} {'MB/s':>7} {'vs chat-json':>12}"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['vs_vocmine_json']:.2f}x" if r["vs_vocmine_json"] is not None else "n/a"
        print(f"{r['format']:28} {r['files']:5d} {r['records_per_s']:10.0f} {r['mb_per_s']:7.2f} {ratio:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--conversations", type=int, default=3200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    parser.add_argument("--large-mbox-mb", type=int, default=0, help="also measure a synthetic mbox of this size")
    parser.add_argument("--per-format", action="store_true", help="reader speed per format over tests/data")
    parser.add_argument("--seconds", type=float, default=0.5, help="--per-format: time spent on each sample file")
    parser.add_argument("--old", help="also measure this commit's code, stage by stage in the same run (a worktree)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each stage a side, alternating; median kept")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.input, args.workdir)))
        return
    if args.per_format:
        rows = per_format(args.seconds)
        _print_per_format(rows)
        out = args.out.with_name("ingest_formats.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2), encoding="utf-8")
        print(f"\nwritten: {out}")
        return

    from vocmine.demo.generate import write_corpus

    with contextlib.ExitStack() as stack:
        old = None
        if args.old:
            from sides import worktree

            old = stack.enter_context(worktree(args.old))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        corpora = []
        demo = tmp / "demo"
        write_corpus(demo, conversations=args.conversations)
        corpora.append(measure(f"demo ({args.conversations} conversations)", demo, old, args.repeats))
        if args.large_mbox_mb:
            large = tmp / "large.mbox"
            _write_large_mbox(demo, large, args.large_mbox_mb * 1_000_000)
            corpora.append(measure(f"large mbox ({args.large_mbox_mb} MB)", large, old, args.repeats))
        twcs = args.shared / "twcs_sample" / "twcs_first5000.csv"
        if twcs.exists():
            corpora.append(measure("twcs_sample (5,000 tweets)", twcs, old, args.repeats))
        else:
            print(f"skipping TWCS: {twcs} not found (pass --shared)", file=sys.stderr)

    header = (
        f"{'corpus':32} {'side':4} {'MB':>6} {'records':>8} {'convs':>6} {'conv/s':>8} {'MB/s':>6} "
        f"{'parse MB/s':>10} {'ingest/read':>11} {'peak MB':>8} {'worker MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in corpora:
        for side, stages in (("new", r), ("old", r.get("old"))):
            if not stages:
                continue
            i, p = stages["ingest"], stages["parse"]  # type: ignore[index]
            print(
                f"{r['corpus']:32} {side:4} {r['bytes'] / 1e6:6.1f} {i['records']:8d} {i['conversations']:6d} "  # type: ignore[index]
                f"{i['conversations_per_s']:8.0f} {i['mb_per_s']:6.2f} {p['mb_per_s']:10.2f} "
                f"{i['times_read_baseline']:10.0f}x {i['peak_rss_mb']:8.0f} {i.get('peak_worker_rss_mb', 0):9.0f}"
            )
        if "new_over_old" in r:
            ratio = r["new_over_old"]
            print(
                f"{'':32} new/old: ingest MB/s {ratio['ingest_mb_per_s']:.2f}x, "  # type: ignore[index]
                f"conversations/s {ratio['ingest_conversations_per_s']:.2f}x, parse {ratio['parse_mb_per_s']:.2f}x"  # type: ignore[index]
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(corpora, indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()

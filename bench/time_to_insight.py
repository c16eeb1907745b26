"""Time from files to a fitted theme model: ``vocmine ingest``, ``vocmine analyze`` and ``vocmine themes fit``
as a user runs them, each in a fresh process, on a fresh embedded store and a fresh embedding cache.

    python bench/time_to_insight.py [--corpus airline|demo] [--data ../shared/data] [--conversations 10000]
        [--project 100000 1000000] [--workers 10 100] [--per-worker-efficiency 0.9]
        [--out bench/results/time_to_insight.json]

Corpus (``--corpus``): ``airline`` (default) is the first N real tweets to US airlines of
``../shared/data/airline/Tweets.csv`` (14,640), each a social conversation read through a mapping file
(docs/mapping.md), the way a user would load such an export; ``demo`` is N conversations of the demo
generator (``vocmine/demo/generate.py``: e-mail, chat, social and call exports), whose templated customer
phrases repeat far more than real ones, so the embedding cache serves many of them (texts encoded are
reported beside segments).

Measured: seconds per stage (wall, the command's own clock) and conversations, segments and texts encoded.
Projected for each ``--project`` size: ingestion and analysis scale linearly with conversations (both stream
in batches, memory bounded); the theme fit clusters at most 50,000 segments (``DiscoveryParams.sample_size``)
and assigns the rest by nearest centroid (a matrix product), so once 50,000 segments are reached its time
is taken as the 50,000-segment fit that bench/topics.py measured (``--fit-50k-seconds``, by default read from
bench/results/topics.json), and below that projected linearly from the measured run. With
``--workers`` N (``vocmine analyze --engine dask``, docs/scaling.md) analysis time is divided by N times the
per-worker efficiency given (measured by bench/scaleout.py); ingestion and the fit stay on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIT_SAMPLE = 50_000  # DiscoveryParams.sample_size


def vocmine(*args: str, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    """One CLI command in a fresh process: (wall seconds, its --json output)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vocmine.cli.main", *args, "--json"], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: finished, some records rejected (the demo plants malformed ones)
        raise SystemExit(f"vocmine {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout[done.stdout.index("{") :])


AIRLINE_MAPPING = """
source = "airline"
channel = "social"
time_format = "%Y-%m-%d %H:%M:%S %z"

[fields]
conversation_id = "tweet_id"
text = "text"
time = "tweet_created"
brand = "airline"
"""


def write_airline(data: Path, conversations: int, corpus: Path) -> list[str]:
    """The first ``conversations`` tweets as a CSV of their own, and the ingest arguments that read it."""
    import csv

    corpus.mkdir()
    with (data / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        rows = [row for _, row in zip(range(conversations), reader, strict=False)]
    if len(rows) < conversations:
        raise SystemExit(f"the airline file has {len(rows)} tweets, fewer than {conversations}: use --corpus demo")
    with (corpus / "tweets.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mapping = corpus.parent / "airline.toml"
    mapping.write_text(AIRLINE_MAPPING, encoding="utf-8")
    return [str(corpus / "tweets.csv"), "--map", str(mapping)]


def measure(corpus_kind: str, data: Path, conversations: int, folder: Path) -> dict[str, object]:
    corpus = folder / "corpus"
    if corpus_kind == "airline":
        inputs = write_airline(data, conversations, corpus)
    else:
        from vocmine.demo.generate import write_corpus

        write_corpus(corpus, conversations=conversations)
        inputs = [str(corpus)]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VOCMINE_STORE": f"sqlite:///{folder / 'store.sqlite'}",
        "VOCMINE_EMBEDDING_CACHE": str(folder / "embeddings.sqlite"),
    }
    ingest_s, ingested = vocmine("ingest", *inputs, "--report-dir", str(folder / "reports"), env=env)
    analyze_s, analysed = vocmine("analyze", env=env)
    fit_s, fitted = vocmine("themes", "fit", env=env)
    return {
        "corpus": corpus_kind,
        "conversations": conversations,
        "input_mb": round(sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) / 1e6, 1),
        "stored_conversations": analysed.get("conversations"),
        "segments": analysed.get("segments"),
        "texts_encoded": analysed.get("texts_encoded"),
        "seconds": {"ingest": round(ingest_s, 1), "analyze": round(analyze_s, 1), "themes fit": round(fit_s, 1)},
        "total_seconds": round(ingest_s + analyze_s + fit_s, 1),
        "themes": fitted.get("themes") or fitted.get("active"),
        "ingest_report": {k: ingested.get(k) for k in ("records", "conversations") if k in ingested},
    }


def project(run: dict[str, object], size: int, workers: int, efficiency: float, fit_50k: float) -> dict[str, object]:
    scale = size / int(run["conversations"])  # type: ignore[call-overload]
    seconds: dict[str, float] = run["seconds"]  # type: ignore[assignment]
    segments = int(run["segments"]) * scale  # type: ignore[call-overload]
    fit = fit_50k if segments >= FIT_SAMPLE else seconds["themes fit"] * segments / max(1, int(run["segments"]))  # type: ignore[call-overload]
    analyze = seconds["analyze"] * scale / (workers * efficiency if workers > 1 else 1)
    stages = {"ingest": seconds["ingest"] * scale, "analyze": analyze, "themes fit": fit}
    return {
        "conversations": size,
        "workers": workers,
        "projected_seconds": {k: round(v) for k, v in stages.items()},
        "projected_hours": round(sum(stages.values()) / 3600, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=("airline", "demo"), default="airline")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--conversations", type=int, nargs="+", default=[10_000])
    parser.add_argument("--project", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--per-worker-efficiency", type=float, default=1.0)
    parser.add_argument("--fit-50k-seconds", type=float, help="default: bench/results/topics.json's vocmine fit")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "time_to_insight.json")
    args = parser.parse_args()
    fit_50k = (
        args.fit_50k_seconds
        or json.loads((ROOT / "bench" / "results" / "topics.json").read_text())["vocmine"]["fit_seconds"]
    )

    runs = []
    for size in args.conversations:
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(measure(args.corpus, args.data, size, Path(tmp)))
        print(json.dumps(runs[-1]), flush=True)
    base = runs[-1]  # the largest measured run is the one projected from
    projections = [
        project(base, size, workers, args.per_worker_efficiency, fit_50k)
        for size in args.project
        for workers in [1, *args.workers]
    ]
    print(f"\n{'conversations':>14} {'workers':>8} {'ingest s':>9} {'analyze s':>10} {'fit s':>7} {'total h':>8}")
    for run in runs:
        s = run["seconds"]
        print(
            f"{run['conversations']:>14,} {1:>8} {s['ingest']:>9} {s['analyze']:>10} {s['themes fit']:>7} "  # type: ignore[index]
            f"{float(run['total_seconds']) / 3600:>8.2f}  measured"  # type: ignore[arg-type]
        )
    for p in projections:
        s = p["projected_seconds"]
        print(
            f"{p['conversations']:>14,} {p['workers']:>8} {s['ingest']:>9} {s['analyze']:>10} {s['themes fit']:>7} "  # type: ignore[index]
            f"{p['projected_hours']:>8}  projected"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"measured": runs, "fit_50k_seconds": fit_50k, "projected": projections}
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

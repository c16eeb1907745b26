"""Scale-out analysis: per-worker throughput of the local engine and of Dask at 1 and 2 workers, in
the same run on the same store, and a projection for 10 and 100 workers.

    python bench/scaleout.py --data ../shared/data [--limit 400] [--out bench/results/scaleout.json]

Corpus: the TWCS sample ingested as bench/throughput.py does (its ``build_store``), cut to the first
``--limit`` conversations. Each phase analyses a fresh copy of that store with an empty embedding
cache:

* **local** – ``analyze_store`` in this process (today's ``vocmine analyze``; torch uses every core);
* **dask-1**, **dask-2** – ``analyze_on_dask`` on a ``LocalCluster`` of 1 or 2 worker processes with
  one thread each (Dask sets OMP/MKL threads to 1 in its workers), 4 parts per worker. Model loading
  is timed apart (``client.run(warm_up)`` on every worker first); the timed run includes planning,
  dispatch and writing.

The store's write rate is measured apart: the local phase's analyses and vectors written again with
``write_analyses`` into a fresh copy, in batches of 128 conversations, over and over for a second
(segments/s).

Each phase reports wall-time rates and the rate per CPU-second of the processes that analysed (the
workers' CPU time summed, read with ``client.run(time.process_time)``): on this shared 2-core machine
the wall rate measures the other load as much as the code.

Projection for N workers: N × the dask-1 segments per CPU-second (one worker process, one thread),
bounded by the store's write rate. It assumes what a cluster gives a worker: a core of its own (this
machine's 2 cores are shared with other work), the models loaded once per worker, and a store that
takes the writes (SQLite is one machine's store; on a cluster it is Elasticsearch, whose write rate
this bench does not measure: the SQLite figure is what bounds one machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROJECTED_WORKERS = (1, 2, 10, 100)
WRITE_BATCH = 128
WRITE_SECONDS = 1.0


def limited_store(data: Path, folder: Path, limit: int) -> Path:
    """The TWCS store of bench/throughput.py, cut to its first ``limit`` conversations."""
    from throughput import build_store  # bench/throughput.py: one corpus for both benches

    from vocmine.store.sqlite.store import SQLiteStore

    full = SQLiteStore(str(build_store(data, folder)))
    conversations = []
    for conversation in full.iter_conversations():
        conversations.append(conversation)
        if len(conversations) >= limit:
            break
    full.close()
    path = folder / "base.sqlite"
    base = SQLiteStore(str(path))
    base.upsert_conversations(conversations)
    base.close()
    return path


def fresh_copy(base: Path, folder: Path, name: str) -> Any:
    from vocmine.settings import Settings

    path = folder / f"{name}.sqlite"
    shutil.copyfile(base, path)
    return Settings(store=f"sqlite:///{path}", embedding_cache=str(folder / f"cache-{name}.sqlite"))


def phase_local(settings: Any) -> dict[str, Any]:
    from vocmine.schema import Conversation, Turn
    from vocmine.services.analysis import analyze_store, build_analyzer
    from vocmine.store.factory import open_store

    store = open_store(settings.store)
    started = time.perf_counter()
    analyzer = build_analyzer(settings, store=store)
    # Load the models (timed apart, as warm_up does in each Dask worker).
    analyzer.analyse([Conversation(id="warm-up", channel="chat", source="-", turns=[Turn(role="customer", text="hi")])])
    loaded, cpu = time.perf_counter(), time.process_time()
    report = analyze_store(store, analyzer, batch_size=settings.analysis_batch)
    done = time.perf_counter()
    store.close()
    return figures(report, done - loaded, loaded - started, time.process_time() - cpu, workers=1)


def phase_dask(settings: Any, workers: int) -> dict[str, Any]:
    import distributed

    from vocmine.services.scaleout import PARTITIONS_PER_WORKER, analyze_on_dask, warm_up
    from vocmine.store.factory import open_store

    store = open_store(settings.store)
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        started = time.perf_counter()
        client.run(warm_up, settings)
        loaded, cpu = time.perf_counter(), client.run(time.process_time)
        report = analyze_on_dask(
            settings, store, scheduler=cluster.scheduler_address, partitions=PARTITIONS_PER_WORKER * workers
        )
        done = time.perf_counter()
        used = sum(after - cpu[worker] for worker, after in client.run(time.process_time).items())
    store.close()
    return figures(report, done - loaded, loaded - started, used, workers=workers)


def figures(report: Any, seconds: float, load_s: float, cpu_seconds: float, *, workers: int) -> dict[str, Any]:
    """Wall-time rates, and the rate per CPU-second of the analysing processes (the driver's for the
    local engine, the workers' summed for Dask): on a shared machine the wall rate measures the other
    load as much as the code, the CPU rate is what one dedicated core gives."""
    return {
        "workers": workers,
        "conversations": report.conversations,
        "segments": report.segments,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_s": round(load_s, 1),
        "segments_per_s": round(report.segments / seconds, 1),
        "segments_per_s_per_worker": round(report.segments / seconds / workers, 1),
        "segments_per_cpu_s": round(report.segments / cpu_seconds, 1),
    }


def store_write_rate(analysed: Any, base: Path, folder: Path) -> dict[str, Any]:
    """write_analyses of the local phase's results into a fresh copy of the store."""
    from vocmine.store.factory import open_store

    source = open_store(analysed.store)
    ids = [c.id for c in source.iter_conversations()]
    analyses = source.get_analyses(ids)
    vectors = source.get_segment_vectors([s.id for a in analyses.values() for s in a.segments])
    source.close()
    items = [(a, _matrix([vectors[s.id] for s in a.segments]) if a.segments else None) for a in analyses.values()]
    target = open_store(fresh_copy(base, folder, "writes").store)
    rounds, started = 0, time.perf_counter()
    # Written again until a second has passed (a rewrite replaces: the dearer case), so the figure
    # is not a few milliseconds' worth.
    while rounds == 0 or time.perf_counter() - started < WRITE_SECONDS:
        for start in range(0, len(items), WRITE_BATCH):
            chunk = items[start : start + WRITE_BATCH]
            target.write_analyses([a for a, _ in chunk], [v for _, v in chunk])
        rounds += 1
    seconds = time.perf_counter() - started
    target.close()
    segments = sum(len(a.segments) for a, _ in items) * rounds
    return {
        "conversations": len(items) * rounds,
        "segments": segments,
        "rounds": rounds,
        "seconds": round(seconds, 3),
        "conversations_per_s": round(len(items) * rounds / seconds, 1),
        "segments_per_s": round(segments / seconds, 1),
    }


def _matrix(rows: list[Any]) -> Any:
    import numpy as np

    return np.stack(rows)


def projection(per_worker: float, write_rate: float) -> list[dict[str, Any]]:
    rows = []
    for workers in PROJECTED_WORKERS:
        unbounded = per_worker * workers
        rows.append(
            {
                "workers": workers,
                "segments_per_s": round(min(unbounded, write_rate), 1),
                "bound": "workers" if unbounded <= write_rate else "store writes",
                "hours_per_5m_segments": round(5_000_000 / min(unbounded, write_rate) / 3600, 2),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=400, help="conversations analysed per phase")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scaleout.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = limited_store(args.data, folder, args.limit)
        local_settings = fresh_copy(base, folder, "local")
        phases = {"local": phase_local(local_settings)}
        print(f"local: {phases['local']}", flush=True)
        for workers in (1, 2):
            phases[f"dask-{workers}"] = phase_dask(fresh_copy(base, folder, f"dask-{workers}"), workers)
            print(f"dask-{workers}: {phases[f'dask-{workers}']}", flush=True)
        writes = store_write_rate(local_settings, base, folder)
        print(f"store writes: {writes}", flush=True)

    per_worker = phases["dask-1"]["segments_per_cpu_s"]
    results: dict[str, Any] = {
        "corpus": f"TWCS sample (first 5,000 rows), first {args.limit} conversations",
        "machine_cores": os.cpu_count(),
        "phases": phases,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "wall_dask_2_over_dask_1": round(phases["dask-2"]["segments_per_s"] / phases["dask-1"]["segments_per_s"], 2),
        "wall_dask_1_over_local": round(phases["dask-1"]["segments_per_s"] / phases["local"]["segments_per_s"], 2),
        "cpu_dask_2_over_dask_1": round(phases["dask-2"]["segments_per_cpu_s"] / per_worker, 2),
        "store_writes_sqlite": writes,
        "projection_assumption": (
            "N workers x the dask-1 segments per CPU-second (one worker process with one thread: what a "
            "worker with a dedicated core gives), bounded by the store's measured write rate (SQLite, "
            "write_analyses in batches of 128)"
        ),
        "projection": projection(per_worker, writes["segments_per_s"]),
    }
    header = (
        f"{'phase':10} {'workers':>7} {'segments':>9} {'seconds':>8} {'CPU s':>7} {'seg/s':>8} {'seg/s/worker':>13}"
    )
    print(f"\n{header} {'seg/CPU-s':>10} {'load s':>7}")
    for name, row in phases.items():
        print(
            f"{name:10} {row['workers']:>7} {row['segments']:>9} {row['seconds']:>8} {row['cpu_seconds']:>7} "
            f"{row['segments_per_s']:>8} {row['segments_per_s_per_worker']:>13} {row['segments_per_cpu_s']:>10} "
            f"{row['load_s']:>7}"
        )
    print(
        f"wall: dask-2 / dask-1 {results['wall_dask_2_over_dask_1']}x, "
        f"dask-1 / local {results['wall_dask_1_over_local']}x; "
        f"per CPU-second: dask-2 / dask-1 {results['cpu_dask_2_over_dask_1']}x; "
        f"load average {results['load_average_1m_at_end']}"
    )
    print(f"store writes (SQLite): {writes['segments_per_s']} segments/s, {writes['conversations_per_s']} conv/s")
    print(f"\n{'workers':>7} {'projected seg/s':>16} {'bound':>13} {'h per 5M segments':>18}")
    for row in results["projection"]:
        print(f"{row['workers']:>7} {row['segments_per_s']:>16} {row['bound']:>13} {row['hours_per_5m_segments']:>18}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

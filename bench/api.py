"""API latency under concurrent load on the embedded store filled with synthetic analysed
conversations (written straight to the store: no model runs).

    python bench/api.py --sizes 100000 1000000 [--requests 600] [--clients 8] [--routes trends ...]
                        [--workers 1] [--while-ingesting] [--out bench/results/api.json]

For each size: build (or reuse, under var/bench-api/) a SQLite store of that many conversations –
1 to 4 customer segments each over 40 themes, 6 months of dates, 3 channels in use, 200 agents in
20 teams, 3 brands, sentiment, stages, flags on ~12%, NPS on ~20% – then start ``vocmine serve``
(``--workers`` uvicorn workers, models not loaded: these routes do not use them) and send ``--requests``
requests per route from ``--clients`` concurrent clients over loopback:

* search – full text for a common word with one filter (channel or sentiment), 20 hits;
* browse – the newest 20 conversations for one filter, no text;
* trends – all themes per week;
* priorities – the 14-day window against the 56 days before, with NPS drivers;
* conversation – fetch by id.

``--while-ingesting`` measures the same while another client posts a batch of ``INGEST_BATCH`` new
conversations to ``POST /v1/ingest/conversations`` every second (on a copy of the store, which it
then deletes), so the API writes as it answers.

Reported per route: p50, p95, requests/s; and the API processes' peak RSS (VmHWM, summed). Targets at 1M
conversations (issue 6): search p95 ≤ 100 ms, trends p95 ≤ 250 ms, priorities p95 ≤ 500 ms.

``--store http(s)://[user:password@]host:9200`` runs the same bench on an Elasticsearch cluster: each
size is written through the generic Store API into indices of its own, ``<--es-prefix>-<size>-*``
(reused when they already hold that size, rebuilt otherwise; no other index is touched), and the API
serves them (``VOCMINE_ES_PREFIX``); ``--while-ingesting`` posts into a copy, ``<prefix>-live``, deleted
after. ``--start-emulator`` instead starts the noida-db emulator (``vocmine/testing/elastic.py``; data
under ``--folder``) and runs on it: its figures are the emulator's, not representative of Elasticsearch,
and the report says so. The server's own memory is not in the API RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from vocmine.schema import (  # noqa: E402
    Theme,
)
from vocmine.services.keys import create_key  # noqa: E402
from vocmine.services.reindex import reindex  # noqa: E402
from vocmine.store.factory import open_elastic_store, open_store  # noqa: E402
from vocmine.store.sqlite.store import SQLiteStore  # noqa: E402
from vocmine.testing.corpus import LOAD_THEMES, LOAD_WORDS, load_record  # noqa: E402
from vocmine.testing.elastic import emulator, is_emulator, server_info  # noqa: E402

if TYPE_CHECKING:
    from vocmine.store.elastic.store import ElasticStore
    from vocmine.store.protocol import Store

INGEST_BATCH = 100
EMULATOR_NOTE = "noida-db emulator, not representative of Elasticsearch"


@dataclass(frozen=True)
class Target:
    """The store one size is measured on: a SQLite file, or an index prefix on a cluster."""

    url: str  # sqlite:///path or http(s)://host:9200
    prefix: str | None = None  # Elasticsearch: the indices' prefix

    def open(self) -> Store:
        return open_store(self.url) if self.prefix is None else self.elastic()

    def elastic(self) -> ElasticStore:
        assert self.prefix is not None
        return open_elastic_store(self.url, prefix=self.prefix)

    def env(self) -> dict[str, str]:
        """What the API processes need to open it."""
        return {"VOCMINE_STORE": self.url, **({"VOCMINE_ES_PREFIX": self.prefix} if self.prefix else {})}


def _write_records(store: Store, size: int, started: float) -> None:
    """The synthetic corpus of ``size`` conversations with their analyses (seeded by the size)."""
    rng = random.Random(size)
    for first in range(0, size, 2000):
        rows = [load_record(n, rng) for n in range(first, min(size, first + 2000))]
        store.upsert_conversations([c for c, _, _ in rows])
        store.write_analyses([a for _, a, _ in rows], [None] * len(rows))
        if first % 100_000 == 0:
            print(f"  {first:,} conversations written ({time.perf_counter() - started:.0f}s)", flush=True)


def _bench_themes() -> list[Theme]:
    return [
        Theme(id=f"t{i + 1}", label=f"theme {i + 1}", keywords=[LOAD_WORDS[i % len(LOAD_WORDS)]])
        for i in range(LOAD_THEMES)
    ]


def build_store(path: Path, size: int) -> None:
    if path.exists():
        return
    partial = path.with_suffix(".partial")
    for leftover in partial.parent.glob(partial.name + "*"):
        leftover.unlink()
    store = SQLiteStore(str(partial))
    started = time.perf_counter()
    _write_records(store, size, started)
    store.replace_themes(_bench_themes(), "themes-bench")
    store.conn.execute("PRAGMA optimize")
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    print(f"  built {path} in {time.perf_counter() - started:.0f}s", flush=True)


def build_elastic(target: Target, size: int) -> None:
    """``size`` conversations under ``target.prefix``, reused when its indices hold exactly that
    with the themes (written last, so a build cut short is never taken for a whole one); else that
    prefix's own indices (no other) are deleted and written again."""
    store = target.elastic()
    try:
        if store.document_counts():
            if store.stats().conversations == size and len(store.list_themes()) == LOAD_THEMES:
                print(f"  reusing the indices {target.prefix}-*", flush=True)
                return
            print(f"  {target.prefix}-* holds another build: deleting its indices", flush=True)
            store.drop_indices()
        started = time.perf_counter()
        _write_records(store, size, started)
        _refresh(store)
        store.replace_themes(_bench_themes(), "themes-bench")
        print(f"  built {target.prefix}-* in {time.perf_counter() - started:.0f}s", flush=True)
    finally:
        store.close()


def _refresh(store: ElasticStore) -> None:
    """What Elasticsearch needs in place of SQLite's PRAGMA: every write visible to the next search."""
    store.es.indices.refresh(index=store.own_indices())


@contextmanager
def elastic_copy(target: Target) -> Iterator[Target]:
    """A copy of the prefix's store under ``<prefix>-live`` (its posted conversations must not stay),
    deleted after."""
    live = Target(target.url, f"{target.prefix}-live")
    origin, copy = target.elastic(), live.elastic()
    try:
        copy.drop_indices()  # a copy an interrupted run left
        reindex(origin, copy)
        _refresh(copy)
        yield live
    finally:
        copy.drop_indices()
        origin.close()
        copy.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server process and its worker processes, summed."""
    total = 0.0
    for process in (pid, *_children(pid)):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def _wait_until_idle(pid: int, quiet_s: float = 2.0) -> None:
    """Until the server's processes used no CPU for ``quiet_s`` (every worker finished start-up)."""

    def cpu_ticks() -> int:
        total = 0
        for process in (pid, *_children(pid)):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total

    before = cpu_ticks()
    for _ in range(600):
        time.sleep(quiet_s)
        now = cpu_ticks()
        if now - before <= 2:  # a tick or two of housekeeping
            return
        before = now


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def measure(
    target: Target,
    size: int,
    requests: int,
    clients: int,
    only: list[str] | None = None,
    workers: int = 1,
    while_ingesting: bool = False,
) -> dict[str, object]:
    store = target.open()
    _, token = create_key(store, "bench", ["read", "ingest"] if while_ingesting else ["read"])
    store.close()
    port = _free_port()
    env = {**os.environ, **target.env(), "VOCMINE_API_LOAD_MODELS": "false"}
    command = [sys.executable, "-m", "uvicorn", "vocmine_api.app:create_app", "--factory", "--port", str(port)]
    command += ["--workers", str(workers)]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(600):  # start-up builds the in-memory aggregation columns: ~20 s at 1M
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        _wait_until_idle(server.pid)  # the first worker answers while others may still be building
        rng = random.Random(1)
        routes = {
            "search": lambda: (
                f"{base}/search?q={rng.choice(LOAD_WORDS)}&"
                + rng.choice(("channel=chat", "sentiment=negative", "channel=email"))
            ),
            "browse": lambda: f"{base}/search?" + rng.choice(("channel=chat", "sentiment=negative", "channel=email")),
            "trends": lambda: f"{base}/themes/trends?interval=week",
            "priorities": lambda: f"{base}/signals/priorities",
            "conversation": lambda: f"{base}/conversations/c{rng.randrange(size):07d}",
        }
        results: dict[str, object] = {}
        writer = _Ingester(base, headers, size) if while_ingesting else None
        with httpx.Client(headers=headers, timeout=120) as client:
            for name, url in routes.items():
                if only and name not in only:
                    continue
                client.get(url())  # warm-up, not counted
                urls = [url() for _ in range(requests)]

                def timed(u: str) -> float:
                    t = time.perf_counter()
                    response = client.get(u)
                    response.raise_for_status()
                    return time.perf_counter() - t

                started = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    latencies = sorted(pool.map(timed, urls))
                wall = time.perf_counter() - started
                results[name] = {
                    "p50_ms": round(statistics.median(latencies) * 1000, 1),
                    "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
                    "requests_per_s": round(len(latencies) / wall, 1),
                }
                print(f"  {name:13} {results[name]}", flush=True)
        if writer is not None:
            results["ingested_while_measuring"] = writer.stop()
            print(f"  ingested      {results['ingested_while_measuring']}", flush=True)
        results["api_peak_rss_mb"] = _peak_rss_mb(server.pid)
        return results
    finally:
        server.terminate()
        server.wait(30)


class _Ingester:
    """Posts ``INGEST_BATCH`` new conversations every second until stopped, on its own thread."""

    def __init__(self, base: str, headers: dict[str, str], size: int) -> None:
        self.url, self.headers = f"{base}/ingest/conversations", headers
        self.rng, self.next_number = random.Random(7), size
        self.stored, self.seconds = 0, []
        self.error: Exception | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._post_until_stopped()
        except Exception as exc:  # raised again by stop(): a bench whose ingest failed measured nothing
            self.error = exc

    def _post_until_stopped(self) -> None:
        with httpx.Client(headers=self.headers, timeout=120) as client:
            while not self.done.is_set():
                started = time.perf_counter()
                first, self.next_number = self.next_number, self.next_number + INGEST_BATCH
                batch = [load_record(n, self.rng)[0] for n in range(first, self.next_number)]
                body = {"conversations": [c.model_dump(mode="json") for c in batch]}
                response = client.post(self.url, json=body)
                response.raise_for_status()
                self.stored += response.json()["stored"]
                took = time.perf_counter() - started
                self.seconds.append(took)
                self.done.wait(max(0.0, 1.0 - took))

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join(120)
        if self.error is not None:
            raise RuntimeError(f"the ingest beside the measurement failed: {self.error}") from self.error
        return {
            "conversations": self.stored,
            "batches": len(self.seconds),
            "batch_p50_ms": round(statistics.median(self.seconds) * 1000, 1) if self.seconds else 0.0,
            "batch_max_ms": round(max(self.seconds) * 1000, 1) if self.seconds else 0.0,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "bench-api")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (each builds its own columns)")
    parser.add_argument("--routes", nargs="+", choices=["search", "browse", "trends", "priorities", "conversation"])
    parser.add_argument("--while-ingesting", action="store_true", help="measure while a client posts new conversations")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--store", help="an Elasticsearch URL, http(s)://[user:password@]host:9200 (default: SQLite)")
    where.add_argument("--start-emulator", action="store_true", help=f"start noida-db and run on it ({EMULATOR_NOTE})")
    parser.add_argument(
        "--es-prefix", default="vocmine-bench-api", help="Elasticsearch: indices go under <this>-<size>-*"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api.json")
    args = parser.parse_args()
    if args.store and not args.store.startswith(("http://", "https://")):
        parser.error("--store takes an Elasticsearch URL; the SQLite stores go under --folder")
    args.folder.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {
        "requests_per_route": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "while_ingesting": args.while_ingesting,
    }
    if args.store or args.start_emulator:
        with _cluster(args.store, args.folder) as url:
            info = server_info(url, timeout=10.0)
            version = str(info.get("version", {}).get("number", "?"))
            report = {
                "store": "elasticsearch",
                "server": f"noida-db (reports Elasticsearch {version})"
                if is_emulator(info)
                else f"Elasticsearch {version}",
                **({"note": EMULATOR_NOTE} if is_emulator(info) else {}),
                "date": datetime.now(UTC).date().isoformat(),
                "cpus": os.cpu_count(),
                **report,
            }
            for size in args.sizes:
                print(f"{size:,} conversations", flush=True)
                target = Target(url, f"{args.es_prefix}-{size}")
                build_elastic(target, size)
                if not args.while_ingesting:
                    report[str(size)] = measure(target, size, args.requests, args.clients, args.routes, args.workers)
                    continue
                with elastic_copy(target) as live:
                    report[str(size)] = measure(
                        live, size, args.requests, args.clients, args.routes, args.workers, True
                    )
    else:
        for size in args.sizes:
            path = args.folder / f"store-{size}.sqlite"
            print(f"{size:,} conversations", flush=True)
            build_store(path, size)
            if not args.while_ingesting:
                report[str(size)] = measure(
                    Target(f"sqlite:///{path}"), size, args.requests, args.clients, args.routes, args.workers
                )
                continue
            live = path.with_name(f"{path.stem}-live.sqlite")  # the posted conversations must not stay
            shutil.copyfile(path, live)
            try:
                report[str(size)] = measure(
                    Target(f"sqlite:///{live}"), size, args.requests, args.clients, args.routes, args.workers, True
                )
            finally:
                for leftover in live.parent.glob(live.name + "*"):
                    leftover.unlink()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


@contextmanager
def _cluster(url: str | None, folder: Path) -> Iterator[str]:
    """The cluster ``--store`` names, or noida-db started for the run (its data kept under ``folder``,
    so the next run reuses what this one built)."""
    if url:
        yield url
        return
    with emulator(folder / "noida-db") as server:
        print(f"noida-db at {server.url} ({EMULATOR_NOTE})", flush=True)
        yield server.url


if __name__ == "__main__":
    main()

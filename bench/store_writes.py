"""What the SQLite store's writes cost during an ingestion, and what each of its bulk-write settings saves.

    python bench/store_writes.py [--mbox-mb 100] [--repeats 3] [--source STORE]

The conversations an ingestion of a synthetic mailbox of about ``--mbox-mb`` MB stores (the demo's
mbox messages repeated with fresh Message-IDs, as ``bench/ingest.py --large-mbox-mb`` makes it) are
read back and written again into fresh stores, the way the run writes threads: batches of 200, each
conversation handed over serialised, as the workers hand it. ``--source`` reuses a store already
made so. Four ways, alternating, ``--repeats`` times each:

* ``shipped``   - as the store writes now: in ``bulk_load()`` (an empty store's conversation indexes
  built at the end), statement journals in memory;
* ``indexes kept`` - the same without ``bulk_load()``: every index kept up row by row;
* ``journals in files`` - ``bulk_load()``, but statement journals in temporary files, SQLite's default;
* ``neither`` - indexes kept and journals in files: how the store wrote before either.

It prints each way's seconds (median and all), CPU seconds, and write system calls (``syscw`` of
/proc/self/io), and the ratio of each to ``shipped``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

from vocmine.schema import Conversation, SerializedConversation  # noqa: E402
from vocmine.store.sqlite.store import SQLiteStore  # noqa: E402

BATCH = 200  # threads a worker prepares per task: what one upsert writes in a run
WAYS = ("shipped", "indexes kept", "journals in files", "neither")


def _write_syscalls() -> int:
    with open("/proc/self/io", encoding="ascii") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("syscw:"))


def make_source(folder: Path, mbox_mb: int) -> Path:
    """Ingest a synthetic mailbox into a store; its path."""
    from ingest import _write_large_mbox

    from vocmine.demo.generate import write_corpus
    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings

    demo = folder / "demo"
    write_corpus(demo, conversations=3200)
    mailbox = folder / "large.mbox"
    _write_large_mbox(demo, mailbox, mbox_mb * 1_000_000)
    store_path = folder / "source.sqlite"
    settings = Settings(company_domains=["northwind-telecom.com"], brand_accounts=["NorthwindHelp"])
    ingest_paths([str(mailbox)], settings, SQLiteStore(str(store_path)), report_dir=folder / "reports")
    return store_path


def load(source: Path) -> list[SerializedConversation]:
    with contextlib.closing(sqlite3.connect(source)) as conn:
        docs = [doc for (doc,) in conn.execute("SELECT doc FROM conversations ORDER BY rowid")]
    return [SerializedConversation.of(Conversation.model_validate_json(doc)) for doc in docs]


def write_all(way: str, conversations: list[SerializedConversation], path: Path) -> dict[str, float]:
    store = SQLiteStore(str(path))
    if way in ("journals in files", "neither"):
        store.conn.execute("PRAGMA temp_store=DEFAULT")
    serialised = {id(s.conversation): s for s in conversations}
    whole = [s.conversation for s in conversations]
    load_context = contextlib.nullcontext() if way in ("indexes kept", "neither") else store.bulk_load()
    started, cpu, calls = time.perf_counter(), time.process_time(), _write_syscalls()
    with load_context:
        for start in range(0, len(whole), BATCH):
            store.upsert_conversations(whole[start : start + BATCH], merge=lambda _, c: serialised[id(c)])
    result = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "write_syscalls": _write_syscalls() - calls,
    }
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mbox-mb", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", type=Path, help="a store to read the conversations from (else one is made)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store_writes.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.source or make_source(folder, args.mbox_mb)
        conversations = load(source)
        runs: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
        for round_ in range(args.repeats):
            for way in WAYS:
                runs[way].append(write_all(way, conversations, folder / f"{round_}-{way.replace(' ', '_')}.sqlite"))
    medians = {way: sorted(r, key=lambda x: x["seconds"])[len(r) // 2] for way, r in runs.items()}
    print(f"{len(conversations):,} conversations in batches of {BATCH}")
    for way in WAYS:
        median = medians[way]
        each = " ".join(f"{r['seconds']:.2f}" for r in runs[way])
        print(
            f"{way:18} {median['seconds']:6.2f} s ({each}) "
            f"cpu {median['cpu_seconds']:6.2f} s, {median['write_syscalls']:>9,} write calls, "
            f"{median['seconds'] / medians['shipped']['seconds']:.2f}x shipped's time"
        )
    report = {"conversations": len(conversations), "batch": BATCH, "medians": medians, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()

"""What the API's routes cost inside the embedded store, one thread, no HTTP: full-text search
(and what sharding the index saved), and trends and priorities computed without the per-snapshot
answer cache (what the first dashboard call after each write pays).

    python bench/store_serving.py [--store var/bench-api/store-1000000.sqlite] [--rounds 5]

The store is the one ``bench/api.py`` builds (run it first); the in-memory columns are built as the
API builds them. Reported (median and p95, milliseconds):

* ``search_ms`` – ``store.search``, first 20 hits, for the same (word, filter) pairs as
  ``bench/api.py``;
* ``term_count_ms`` – the pass FTS5's bm25 makes on every query to count the rows holding the term,
  timed as ``count(*) … MATCH`` over every shard (what one unsharded index paid) and over the newest
  shard only (what a first-page search mostly pays now);
* ``uncached_ms`` – weekly trends of every theme and the priorities table (14 days against 56, NPS
  term), each on a snapshot whose answer cache was just emptied.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vocmine.services.insights import priority_table, trends  # noqa: E402
from vocmine.store.query import ConversationFilter, SearchQuery  # noqa: E402
from vocmine.store.sqlite import fts as sqlite_fts  # noqa: E402
from vocmine.store.sqlite.fts import to_fts_query  # noqa: E402
from vocmine.store.sqlite.store import SQLiteStore  # noqa: E402

# The same words as bench/api.py, loaded by path: its module name would shadow the ``api`` package.
_spec = importlib.util.spec_from_file_location("bench_api", ROOT / "bench" / "api.py")
_bench_api = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_bench_api)  # type: ignore[union-attr]
WORDS: tuple[str, ...] = _bench_api.WORDS

FILTERS = (
    ConversationFilter(channels=["chat"]),
    ConversationFilter(sentiments=["negative"]),
    ConversationFilter(channels=["email"]),
)


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


def _forget_answers(store: SQLiteStore) -> None:
    """The same snapshot with an empty answer cache, as after a write (the store keeps a snapshot
    until its change log moves, so it serves this one)."""
    facts = store._facts
    assert facts is not None and facts._snapshot is not None, "the columns were not built"
    facts._snapshot = dataclasses.replace(facts._snapshot, answers=type(facts._snapshot.answers)())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "bench-api" / "store-1000000.sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store_serving.json")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"no store at {args.store}: run bench/api.py first (it builds it)")
    store = SQLiteStore(str(args.store))
    store.prepare_serving()
    pairs = [(word, f) for word in WORDS for f in FILTERS]
    for word, f in pairs:  # warm the page cache and the per-thread reader
        store.search(SearchQuery(text=word, filter=f, limit=20))
    search, whole, newest = [], [], []
    with store._reading() as conn:
        shards = sqlite_fts.shards(conn)

        def count(shard: int, match: str) -> None:
            name = sqlite_fts.table(shard)
            conn.execute(f"SELECT count(*) FROM {name} WHERE {name} MATCH ?", (match,)).fetchone()

        for _ in range(args.rounds):
            for word, f in pairs:
                query = SearchQuery(text=word, filter=f, limit=20)
                search.append(_timed(lambda query=query: store.search(query)))
            for word in WORDS:
                match = to_fts_query(word)
                whole.append(_timed(lambda match=match: [count(shard, match) for shard in shards]))
                newest.append(_timed(lambda match=match: count(shards[0], match)))
    uncached: dict[str, list[float]] = {"trends_week": [], "priorities": []}
    for _ in range(args.rounds):
        for name, call in (
            ("trends_week", lambda: trends(store, interval="week")),
            ("priorities", lambda: priority_table(store)),
        ):
            _forget_answers(store)
            uncached[name].append(_timed(call))
    report = {
        "store": args.store.name,
        "shards": len(shards),
        "searches": len(search),
        "search_ms": _summary(search),
        "term_count_ms": {"every_shard": _summary(whole), "newest_shard": _summary(newest)},
        "uncached_ms": {name: _summary(values) for name, values in uncached.items()},
    }
    store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

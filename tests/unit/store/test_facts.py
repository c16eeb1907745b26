"""The in-memory aggregation columns answer exactly what SQL answers: the same store file read both
ways, over random data and many filters, before and after every kind of write that the change log
must catch (new conversations, re-analysis, theme assignment, merges, edited conversations, and a
log pruned past the snapshot). Search filters and facets read the same columns, and are held to
the SQL answers the same way."""

from __future__ import annotations

import itertools
import random
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from vocmine.schema import (
    Theme,
)
from vocmine.store.query import ConversationFilter, SearchQuery
from vocmine.store.sqlite import fts as sqlite_fts
from vocmine.store.sqlite import search as sqlite_search
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.corpus import VARIED_START, VARIED_THEMES, varied_analysis, varied_conversation


def _add(store: SQLiteStore, numbers: range, rng: random.Random) -> None:
    conversations = [varied_conversation(n, rng) for n in numbers]
    store.upsert_conversations(conversations)
    analysed = [c for c in conversations if rng.random() < 0.9]  # some stay unanalysed
    store.write_analyses([varied_analysis(c, rng) for c in analysed], [None] * len(analysed))


FILTERS = [
    ConversationFilter(),
    ConversationFilter(channels=["chat", "call"]),
    ConversationFilter(sources=["s2"]),
    ConversationFilter(agent_ids=["a1", "nobody"], brands=["North"]),
    ConversationFilter(team_ids=["team-True"], products=["p2"], languages=["de"]),
    ConversationFilter(since=VARIED_START + timedelta(days=30), until=VARIED_START + timedelta(days=75)),
    ConversationFilter(sentiments=["negative"], stages=["support", "use"]),
    ConversationFilter(trajectories=["improved"]),
    ConversationFilter(signals=["escalation", "churn_risk"]),
    ConversationFilter(min_severity=3),
    ConversationFilter(themes=["t2", "t5"]),
    ConversationFilter(themes=["unknown-theme"]),
    ConversationFilter(channels=["email"], themes=["t1"], since=VARIED_START + timedelta(days=10)),
]


# Sub-theme → top-level theme, as a fit's two levels report them; t6 has no top-level theme (left out).
TOP_LEVEL = {"t1": "g1", "t2": "g1", "t3": "g2", "t4": "g2", "t5": "g3"}


def _same_answers(facts: SQLiteStore, sql: SQLiteStore) -> None:
    for f in FILTERS:
        assert facts._snapshot(f) is not None, "the columns should answer this filter"
        for interval, breakdown in itertools.product(
            (None, "day", "week", "month"), (None, "channel", "stage", "brand", "product", "agent", "team")
        ):
            expected = sql.theme_aggregates(f, interval, breakdown)  # type: ignore[arg-type]
            got = facts.theme_aggregates(f, interval, breakdown)  # type: ignore[arg-type]
            assert _rounded(got) == _rounded(expected), (f, interval, breakdown)
            assert facts.conversation_totals(f, interval, breakdown) == sql.conversation_totals(f, interval, breakdown)  # type: ignore[arg-type]
        for interval, tz in itertools.product((None, "day", "week", "month"), (None, "Europe/Madrid")):
            got_scores, expected_scores = facts.score_totals(f, interval, tz), sql.score_totals(f, interval, tz)  # type: ignore[arg-type]
            assert _rounded(got_scores) == _rounded(expected_scores), (f, interval, tz)
        for by, interval in itertools.product(("agent", "team"), (None, "week")):
            assert _rounded(facts.agent_aggregates(by, f, interval)) == _rounded(sql.agent_aggregates(by, f, interval))  # type: ignore[arg-type]
        for theme_map in (None, TOP_LEVEL):
            got, expected = facts.survey_table(f, theme_map), sql.survey_table(f, theme_map)
            assert got.themes == expected.themes
            for name in ("nps", "csat", "member"):
                np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
        for interval, breakdown in ((None, None), ("week", None), (None, "channel"), ("month", "agent")):
            expected = sql.theme_aggregates(f, interval, breakdown, TOP_LEVEL)  # type: ignore[arg-type]
            got = facts.theme_aggregates(f, interval, breakdown, TOP_LEVEL)  # type: ignore[arg-type]
            assert _rounded(got) == _rounded(expected), ("top level", f, interval, breakdown)
        for text in SEARCHES:
            query = SearchQuery(text=text, filter=f)
            assert facts.facet_counts(query) == sql.facet_counts(query), (f, text)
            assert _every_page(facts, query) == _every_page(sql, query), (f, text)


SEARCHES = [None, "words", "1*", '"words 2" OR 7* -3']


def _every_page(store: SQLiteStore, query: SearchQuery) -> list[tuple]:
    """Every page of a search (or, without text, of browsing): small pages over small windows
    (the fixture patches ``sqlite_search.RANK_WINDOW`` to 7 and the index shards to 32 rows), as
    (ids, scores, highlights, total, relation) per page."""
    pages, cursor = [], None
    while True:
        page = store.search(query.model_copy(update={"limit": 5, "cursor": cursor}))
        hits = [(h.conversation.id, round(h.score or 0, 9), tuple(h.highlights)) for h in page.hits]
        pages.append((hits, page.total, page.total_relation))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _rounded(rows: list) -> list[dict]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.model_dump().items()} for r in rows]


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sqlite_search, "RANK_WINDOW", 7)
    monkeypatch.setattr(sqlite_fts, "SHARD_ROWS", 32)  # windows and facets span several index shards
    path = str(tmp_path / "store.sqlite")
    sql = SQLiteStore(path)
    rng = random.Random(5)
    _add(sql, range(300), rng)
    sql.replace_themes([Theme(id=t, label=t, keywords=[t]) for t in VARIED_THEMES], "v1")
    facts = SQLiteStore(path)
    facts.prepare_serving()
    yield sql, facts, rng
    facts.close()
    sql.close()


def test_columns_match_sql_on_random_data(stores):
    sql, facts, _ = stores
    assert sum(t.conversations for t in facts.conversation_totals()) > 200
    _same_answers(facts, sql)


def test_columns_follow_every_kind_of_write_made_through_another_connection(stores):
    sql, facts, rng = stores
    facts.theme_aggregates()  # snapshot taken before the writes below
    _add(sql, range(300, 360), rng)  # new conversations
    again = [c for c in sql.get_conversations([f"c{n:04d}" for n in range(0, 40)]).values()]
    sql.write_analyses([varied_analysis(c, rng) for c in again], [None] * len(again))  # re-analysis
    sql.assign_themes([(f"c{n:04d}:0:0", "t6") for n in range(40, 90)])  # new theme by assignment
    sql.merge_themes(["t3"], "t5", actor="test")  # segments move between themes
    edited = varied_conversation(100, random.Random(1), channel="social")  # same id, new fields
    sql.upsert_conversations([edited])
    _same_answers(facts, sql)


def test_columns_rebuild_when_the_log_was_pruned_past_them(stores):
    sql, facts, rng = stores
    facts.theme_aggregates()
    _add(sql, range(300, 320), rng)
    # As the pruning trigger does after 200k changes: the entries this snapshot needs are gone.
    sql.conn.execute("DELETE FROM fact_changes")
    sql.assign_themes([(f"c{n:04d}:0:0", "t6") for n in range(0, 30)])
    _same_answers(facts, sql)


def test_filters_the_columns_cannot_answer_go_to_sql(stores):
    _, facts, _ = stores
    by_customer = ConversationFilter(customer_ids=["k1"])
    assert facts._snapshot(by_customer) is None
    plain = SQLiteStore(facts.path)
    try:
        assert facts.theme_aggregates(by_customer) == plain.theme_aggregates(by_customer)
    finally:
        plain.close()


def test_one_thread_computes_an_answer_the_others_wait_for_it():
    from vocmine.store.columns import _Answers

    answers, calls, release = _Answers(), [], threading.Event()

    def slow() -> list[int]:
        calls.append(1)
        release.wait(10)
        return [42]

    def failing() -> list[int]:
        calls.append(1)
        release.wait(10)
        raise RuntimeError("store went away")

    for compute, expected_calls in ((slow, 1), (failing, 8)):
        calls.clear()
        got: list[object] = []

        def ask(compute=compute, got=got) -> None:
            try:
                got.append(answers.get(("priorities", compute.__name__), compute))
            except RuntimeError as exc:
                got.append(str(exc))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)  # every thread has asked; at most one is computing
        assert len(calls) == 1
        release.set()
        for thread in threads:
            thread.join(10)
        release.clear()
        # A failure is not cached: each waiter tries in turn and sees its own error.
        assert len(calls) == expected_calls
        assert got == ([[42]] * 8 if compute is slow else ["store went away"] * 8)


def test_while_a_newer_snapshot_computes_an_answer_askers_get_the_replaced_snapshots_answer():
    from vocmine.store.columns import _Answers

    older = _Answers()
    older.get(("themes", "week"), lambda: ["one write old"])
    older.get(("buckets", "week"), lambda: ["sized to the older snapshot"])
    newer, release = older.successor(), threading.Event()

    def slow(answer: str):  # type: ignore[no-untyped-def]
        def compute() -> list[str]:
            release.wait(10)
            return [answer]

        return compute

    got: dict[str, list[str]] = {}
    computing = [
        threading.Thread(target=lambda q=q: got.setdefault(f"first {q}", newer.get((q, "week"), slow("new"))))
        for q in ("themes", "buckets")
    ]
    for thread in computing:
        thread.start()
    time.sleep(0.2)  # both answers are being computed
    # A public answer may come from the replaced snapshot rather than wait ...
    assert newer.get(("themes", "week"), slow("unused"), previous_while_computing=True) == ["one write old"]
    # ... an answer that is not allowed to waits for the newer snapshot's own.
    waiting = threading.Thread(target=lambda: got.setdefault("second buckets", newer.get(("buckets", "week"), list)))
    waiting.start()
    time.sleep(0.2)
    assert "second buckets" not in got
    release.set()
    for thread in [*computing, waiting]:
        thread.join(10)
    assert got == {"first themes": ["new"], "first buckets": ["new"], "second buckets": ["new"]}
    # Once computed, the newer snapshot answers with its own; and only one generation is kept.
    assert newer.get(("themes", "week"), slow("unused"), previous_while_computing=True) == ["new"]
    assert newer.successor()._previous is newer and newer._previous is None

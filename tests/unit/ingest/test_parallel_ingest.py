"""Ingestion with worker processes stores, rejects and counts exactly what one process does."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vocmine.demo.generate import write_corpus
from vocmine.ingest import pool
from vocmine.ingest.inputs.sources import InputFile
from vocmine.ingest.pool import will_fork
from vocmine.services import ingest_inputs, ingest_workers, ingestion
from vocmine.services.ingest_inputs import Event, HowToRead
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore

PARENT = os.getpid()


@pytest.fixture(autouse=True)
def workers_for_any_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers start for the small inputs of these tests too."""
    monkeypatch.setattr(ingestion, "POOL_MIN_BYTES", 0)


@pytest.fixture
def forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers forked even where the suite has left other threads running (an emulator's, a server's):
    the tests that patch what a worker does need the workers to inherit the patch."""
    monkeypatch.setattr(pool, "will_fork", lambda: True)


@pytest.fixture
def read_where(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The inputs this process took from a worker, and those it read itself."""
    seen: dict[str, list[str]] = {"worker": [], "here": []}
    replay, ingest_file = ingestion.IngestRun._replay, ingestion.IngestRun.ingest_file

    def from_worker(run: ingestion.IngestRun, source: InputFile, outcome: Any) -> None:
        seen["worker"].append(Path(source.name).name)
        replay(run, source, outcome)

    def here(run: ingestion.IngestRun, source: InputFile) -> None:
        seen["here"].append(Path(source.name).name)
        ingest_file(run, source)

    monkeypatch.setattr(ingestion.IngestRun, "_replay", from_worker)
    monkeypatch.setattr(ingestion.IngestRun, "ingest_file", here)
    return seen


def run(
    paths: list[Path], folder: Path, workers: int, **options: Any
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    settings = Settings(
        company_domains=["northwind-telecom.com"], brand_accounts=["NorthwindHelp"], ingest_workers=workers, **options
    )
    store = SQLiteStore(str(folder / f"store-{workers}.sqlite"))
    report = ingestion.ingest_paths([str(p) for p in paths], settings, store, report_dir=folder / f"reports-{workers}")
    store.close()
    summary = report.to_dict()
    summary["rejections"] = [json.loads(line) for line in Path(report.rejections_path or "").read_text().splitlines()]
    db = sqlite3.connect(folder / f"store-{workers}.sqlite")
    docs = {cid: (digest, doc) for cid, digest, doc in db.execute("SELECT id, content_hash, doc FROM conversations")}
    db.close()
    return summary, docs


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in ("records", "conversations", "files_read", "pii_redacted", "rejections")}


def test_two_workers_store_what_one_process_stores(tmp_path: Path, read_where: dict[str, list[str]]) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, conversations=120)  # every channel and format of the demo: chats, calls, e-mails, posts
    one, docs_one = run([corpus], tmp_path, workers=1)
    assert read_where["worker"] == [] and read_where["here"]
    read_where["here"].clear()
    two, docs_two = run([corpus], tmp_path, workers=2)
    assert read_where["worker"] and read_where["here"] == []  # every input read by a worker
    assert docs_one and docs_two == docs_one
    assert comparable(two) == comparable(one)
    assert two["records"]["read"] == two["records"]["stored"] + two["records"]["duplicate"] + two["records"]["rejected"]


def _chat(path: Path, conversation_id: str, text: str) -> Path:
    record = {"id": conversation_id, "channel": "chat", "turns": [{"role": "customer", "text": text}]}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_repeated_conversations_resolve_in_input_order(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _chat(inputs / "a.jsonl", "c-1", "My router keeps dropping the connection every evening.")
    _chat(inputs / "b.jsonl", "c-1", "Second version: the router was replaced and works now.")
    _chat(inputs / "c.jsonl", "c-2", "Billing charged me twice for the same month.")
    _chat(inputs / "d.jsonl", "c-2", "Billing charged me twice for the same month.")
    one, docs_one = run([inputs], tmp_path, workers=1)
    two, docs_two = run([inputs], tmp_path, workers=2)
    assert docs_two == docs_one
    assert comparable(two) == comparable(one)
    assert two["records"]["duplicate"] == 2  # one repeat of each id, counted once whoever read it
    assert "works now" in json.loads(docs_two["c-1"][1])["turns"][0]["text"]  # the later input wins, as in one


def test_an_input_that_breaks_in_a_worker_is_rejected_with_its_place_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_workers: None
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _chat(inputs / "a.jsonl", "c-1", "The app crashes when I open my invoices.")
    _chat(inputs / "b.jsonl", "c-2", "Please cancel my contract at the end of the month.")
    real = ingest_workers.read_input

    def breaks_after_one_record(source: InputFile, how: HowToRead, on_progress: Any = None) -> Iterator[Event]:
        for event in real(source, how, on_progress):
            yield event
            if source.name.endswith("b.jsonl") and isinstance(event, tuple):
                raise OSError("the disk went away")

    monkeypatch.setattr(ingest_workers, "read_input", breaks_after_one_record)  # the workers' reading
    monkeypatch.setattr(ingestion, "read_input", breaks_after_one_record)  # one process's reading
    one, docs_one = run([inputs], tmp_path, workers=1)
    two, docs_two = run([inputs], tmp_path, workers=2)
    assert docs_two == docs_one and set(docs_two) == {"c-1", "c-2"}
    assert comparable(two) == comparable(one)
    [rejection] = two["rejections"]
    assert rejection["file"].endswith("b.jsonl") and rejection["position"] == "file"
    assert rejection["reason"] == "input unreadable after 1 record(s): OSError: the disk went away"


def test_work_a_worker_fails_or_dies_on_is_done_in_the_run_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_where: dict[str, list[str]], forked_workers: None
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for i in range(6):
        _chat(inputs / f"{i}.jsonl", f"c-{i}", f"Message number {i} about my delayed parcel delivery.")
    real = ingest_workers.read_and_prepare

    def fails_in_workers(source: InputFile | None) -> Any:
        if os.getpid() != PARENT and source is not None:
            if source.name.endswith("1.jsonl"):
                raise RuntimeError("a bug that only shows in a worker")
            if source.name.endswith("3.jsonl"):
                os._exit(1)  # the worker dies: its pool breaks
        return real(source)

    monkeypatch.setattr(ingestion, "read_and_prepare", fails_in_workers)
    monkeypatch.setattr(ingestion, "GROUP_FILES", 1)  # a task per input, so that most succeed
    one, docs_one = run([inputs], tmp_path, workers=1)
    read_where["here"].clear()
    two, docs_two = run([inputs], tmp_path, workers=2)
    assert {"1.jsonl", "3.jsonl"} <= set(read_where["here"])  # redone here, with any others lost with the worker
    assert read_where["worker"]  # and the rest taken from workers, the new pool's included
    assert set(docs_two) == {f"c-{i}" for i in range(6)}
    assert docs_two == docs_one
    assert comparable(two) == comparable(one)


def test_threads_joined_to_stored_ones_and_threads_a_worker_failed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies merged into threads a first run stored; a batch of threads whose worker failed is
    prepared in the run instead."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, conversations=120)
    first = tmp_path / "first"  # the first message of each e-mail thread: the replies come in the second run
    first.mkdir()
    for message in sorted((corpus / "email" / "eml").glob("*-0.eml")):
        (first / message.name).write_bytes(message.read_bytes())
    real = ingest_workers.prepare_threads

    def fails_in_a_worker(task: ingest_workers.ThreadTask) -> ingest_workers.ThreadsOutcome:
        if os.getpid() != PARENT and task.threads[0][0] < task.threads[-1][0]:  # most batches
            raise RuntimeError("a bug that only shows in a worker")
        return real(task)

    monkeypatch.setattr(ingestion, "prepare_threads", fails_in_a_worker)
    monkeypatch.setattr(ingestion, "THREAD_TASK_SIZE", 5)  # many batches: some fail, some do not
    results = {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        folder.mkdir()
        run([first], folder, workers)
        results[workers] = run([corpus], folder, workers)
    assert results[2][1] == results[1][1]
    assert comparable(results[2][0]) == comparable(results[1][0])
    assert results[2][0]["conversations"]["updated"] > 0  # stored threads did get replies


def test_a_large_mailbox_read_in_parts_by_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part starts at an envelope; positions count from the mailbox's start, ">From " escapes and
    oversized messages included, as reading it whole does."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, conversations=200)
    messages = b"".join(p.read_bytes() for p in sorted((corpus / "email" / "mbox").glob("*.mbox")))
    escaped = b"From a@b.example Sat Jan  6 10:00:00 2024\nSubject: escapes\n\n>From here on\nbody\n\n"
    oversized = b"From c@d.example Sat Jan  6 11:00:00 2024\nSubject: big\n\n" + b"x" * 3000 + b"\n\n"
    mailbox = tmp_path / "large.mbox"
    mailbox.write_bytes(escaped + messages + oversized + escaped.replace(b"escapes", b"again") + messages[:4000])
    monkeypatch.setattr(ingestion, "WORKER_FILE_BYTES", 1_000)  # read in parts, not whole
    monkeypatch.setattr(ingestion, "MBOX_PART_BYTES", 1_000)
    monkeypatch.setattr(ingest_inputs, "MBOX_PART_BYTES", 5_000)
    one, docs_one = run([mailbox], tmp_path, workers=1, max_record_bytes=2_000)
    source = InputFile(str(mailbox), str(mailbox), None, functools.partial(mailbox.open, "rb"))
    parts = list(ingest_inputs.iter_mbox_parts(source, Settings(max_record_bytes=2_000)))
    assert len(parts) > 3
    two, docs_two = run([mailbox], tmp_path, workers=2, max_record_bytes=2_000)
    assert docs_two == docs_one and len(docs_one) > 10
    assert comparable(two) == comparable(one)
    assert any("larger than" in r["reason"] for r in two["rejections"])


def test_workers_started_fresh_where_other_threads_run(tmp_path: Path) -> None:
    """In a process with other threads (the API server) workers are not forked but started fresh."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, conversations=40)
    one, docs_one = run([corpus], tmp_path, workers=1)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not will_fork()
        two, docs_two = run([corpus], tmp_path, workers=2)
    finally:
        release.set()
        other.join()
    assert docs_two == docs_one
    assert comparable(two) == comparable(one)

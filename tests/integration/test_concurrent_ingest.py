"""Ingests of overlapping inputs running at the same time, as separate processes, into one store:
every turn is stored once and the reports add up (issue 21: two runs adding different replies to the
same threads used to lose one reply in six, and overlapping chat runs counted rows as new twice)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from vocmine.store.sqlite.store import SQLiteStore

THREADS = 200


def _message(number: int, key: str, sender: str, subject: str, body: str, at: datetime, reply_to: str | None) -> str:
    headers = [
        f"From {sender} {at.strftime('%a %b %d %H:%M:%S %Y')}",
        f"From: {sender}",
        "To: support@northwind.example",
        f"Subject: {subject}",
        f"Date: {format_datetime(at)}",
        f"Message-ID: <{key}@example.com>",
    ]
    if reply_to:
        headers += [f"In-Reply-To: <{reply_to}@example.com>", f"References: <{reply_to}@example.com>"]
    return "\n".join(headers) + f"\n\n{body} (order {number})\n\n"


def _mailbox(path: Path, reply: str) -> None:
    """Every thread's first message, then one reply of this mailbox's own to each thread."""
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    parts = []
    for n in range(THREADS):
        sender = f"customer{n}@example.com"
        at = start + timedelta(hours=n)
        parts.append(_message(n, f"root{n}", sender, f"Order {n}", "My parcel has not arrived yet.", at, None))
        body = f"{reply.capitalize()} note: still waiting for the parcel."
        parts.append(_message(n, f"{reply}{n}", sender, f"Re: Order {n}", body, at + timedelta(minutes=30), f"root{n}"))
    path.write_text("".join(parts), encoding="utf-8")


def _chats(path: Path, first: int, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(first, first + count):
            turns = [{"role": "customer", "text": f"My router {n} keeps dropping the line."}]
            out.write(json.dumps({"id": f"chat-{n}", "channel": "chat", "turns": turns}) + "\n")


def _ingest_at_once(store: Path, inputs: list[Path], reports: Path) -> list[dict[str, dict[str, int]]]:
    runs = []
    for n, source in enumerate(inputs):
        folder = reports / f"run{n}"
        command = [sys.executable, "-m", "vocmine.cli.main", "ingest", str(source), "--store", f"sqlite:///{store}"]
        command += ["--report-dir", str(folder), "--json"]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    summaries = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        summaries.append(json.loads(out))
    return summaries


def _total(summaries: list[dict[str, dict[str, int]]], part: str, field: str) -> int:
    return sum(summary[part][field] for summary in summaries)


def test_two_runs_adding_replies_to_the_same_threads_keep_every_reply(tmp_path: Path) -> None:
    first, second = tmp_path / "first.mbox", tmp_path / "second.mbox"
    _mailbox(first, "first")
    _mailbox(second, "second")
    store_path = tmp_path / "store.sqlite"
    # No store yet: both runs create it and apply its migrations at once, too.
    summaries = _ingest_at_once(store_path, [first, second], tmp_path / "reports")

    store = SQLiteStore(str(store_path))
    conversations = list(store.iter_conversations())
    assert len(conversations) == THREADS
    for conversation in conversations:
        texts = [t.text for t in conversation.turns]
        assert len(texts) == 3, texts
        assert sum("First note" in t for t in texts) == 1 and sum("Second note" in t for t in texts) == 1
    # 2 × 2 × THREADS messages read: each thread's first message is stored once and is a duplicate
    # once; every reply is stored.
    assert _total(summaries, "records", "read") == 4 * THREADS
    assert _total(summaries, "records", "stored") == 3 * THREADS
    assert _total(summaries, "records", "duplicate") == THREADS


def test_overlapping_chat_runs_count_each_conversation_new_once(tmp_path: Path) -> None:
    inputs = []
    for n, first in enumerate((0, 300, 600)):
        path = tmp_path / f"chats{n}.jsonl"
        _chats(path, first, 600)  # runs overlap by half: conversations 300–899 are in two inputs
        inputs.append(path)
    store_path = tmp_path / "store.sqlite"
    summaries = _ingest_at_once(store_path, inputs, tmp_path / "reports")

    assert SQLiteStore(str(store_path)).stats().conversations == 1200
    assert _total(summaries, "conversations", "new") == 1200
    assert _total(summaries, "records", "stored") == 1200
    assert _total(summaries, "records", "duplicate") == 600

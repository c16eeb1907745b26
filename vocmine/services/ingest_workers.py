"""What a worker process does for an ingestion run: the per-record work, never storage.

Two kinds of task (run through ``vocmine.ingest.pool.OrderedPool``):

* ``read_and_prepare``: read one input and prepare (redact, detect the language of) each whole
  conversation in it; e-mails and posts come back as read, in the spool's form (``SpooledMessage``),
  since they are prepared once threaded;
* ``prepare_threads``: prepare a batch of threads (their messages as the spool serialised them) into
  conversations, both with prepared turns (what the run merges into a stored thread) and prepared
  whole (what it stores when nothing is stored under the thread's id yet).

Each result carries the PII counts its preparing added, so the run's report counts what one process
would have counted.
"""

from __future__ import annotations

import importlib
import io
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from vocmine.ingest.gc_pauses import collect_less_often
from vocmine.ingest.inputs.sources import InputFile
from vocmine.ingest.mail_threads import SpooledMessage, build_conversation, load_message
from vocmine.ingest.prepare import Preparer
from vocmine.ingest.readers.mail import MboxPart, read_mbox_part
from vocmine.ingest.records import ReadContext, ThreadMessage
from vocmine.language import load_language_model
from vocmine.schema import Conversation, SerializedConversation
from vocmine.services.ingest_inputs import UNREADABLE, Event, HowToRead, read_input, unreadable_reason


@dataclass
class _Worker:
    how: HowToRead
    preparer: Preparer


_WORKER: _Worker | None = None


# What readers and redaction import on first use (0.11 s together). When the run reads an input itself
# while its workers start (a single file), each worker imports them as it starts: imported in the run
# before forking, the TWCS sample took 0.77 s against 0.71 s (medians of fifteen alternating runs).
# When the run only waits for the workers' first results, it imports them before forking
# (``import_before_forking``), once instead of once a worker.
_LAZY_IMPORTS = ("phonenumbers", "stdnum.luhn", "stdnum.iban", "stdnum.us.ssn", "inscriptis", "charset_normalizer")


def import_before_forking() -> None:
    """Import what each worker would import as it starts, in the run, so forked workers share it."""
    for module in _LAZY_IMPORTS:
        importlib.import_module(module)


def start_worker(how: HowToRead) -> None:
    """The pool's initializer: one preparer per worker process, kept for the run, the libraries it
    imports on first use, and the language model. Each worker loads these itself, as it starts, while
    the run goes on reading: the model's tables are mapped from the files, so the workers share their
    memory all the same."""
    global _WORKER
    collect_less_often()  # inherited when forked from a run; not when started fresh
    _WORKER = _Worker(how, Preparer(how.settings))
    import_before_forking()  # nothing left to do where the run did, or the worker was forked after it
    if how.settings.detect_language:
        load_language_model()


def _worker() -> _Worker:
    if _WORKER is None:
        raise RuntimeError("start_worker() was not run in this process")
    return _WORKER


# What a worker hands back for an input: its events, thread messages already in the spool's form.
WorkerEvent = Event | tuple[SpooledMessage, str]


@dataclass
class FileOutcome:
    """An input's events (whole conversations prepared, thread messages spooled), and the reason it
    broke after them, if it did."""

    events: list[WorkerEvent]
    unreadable: str | None
    pii: Counter[str]


def read_and_prepare(source: InputFile | None) -> FileOutcome | None:
    """``None`` for an input the run reads itself (too large to hold whole, or not picklable)."""
    if source is None:
        return None
    worker = _worker()
    counts = worker.preparer.redactor.counts
    before = Counter(counts)
    events: list[WorkerEvent] = []
    unreadable = None
    try:
        for event in read_input(source, worker.how):
            if isinstance(event, tuple) and isinstance(event[0], Conversation):
                event = (worker.preparer.conversation(event[0]), event[1])
            elif isinstance(event, tuple) and isinstance(event[0], ThreadMessage):
                events.append((SpooledMessage.of(event[0]), event[1]))
                continue
            events.append(event)
    except UNREADABLE as exc:
        unreadable = unreadable_reason(exc)
    return FileOutcome(events, unreadable, counts - before)


def read_mbox_part_task(task: tuple[InputFile, MboxPart]) -> FileOutcome:
    worker = _worker()
    return read_mbox_part_with(worker.preparer, worker.how, *task)


def read_mbox_part_with(preparer: Preparer, how: HowToRead, source: InputFile, part: MboxPart) -> FileOutcome:
    """One part of a large mailbox, read as reading the whole mailbox reads those messages."""
    counts = preparer.redactor.counts
    before = Counter(counts)
    events: list[WorkerEvent] = []
    unreadable = None
    try:
        with source.open() as stream:
            stream.seek(part.start)
            data = stream.read(part.end - part.start)
        for item in read_mbox_part(io.BytesIO(data), ReadContext(source.name, how.settings), part.index, part.offset):
            if isinstance(item, ThreadMessage):
                events.append((SpooledMessage.of(item), "mbox"))
            else:
                events.append((preparer.conversation(item) if isinstance(item, Conversation) else item, "mbox"))
    except UNREADABLE as exc:
        unreadable = unreadable_reason(exc)
    return FileOutcome(events, unreadable, counts - before)


@dataclass(frozen=True)
class ThreadTask:
    threads: list[tuple[str, list[bytes]]]  # conversation id, its messages serialised, in time order
    brand_handles: frozenset[str]


@dataclass
class PreparedThread:
    # Prepared whole, with its hash and document (the run's writer is the busy process by then):
    # stored when no thread is stored under its id.
    alone: SerializedConversation
    # The fields in which the thread with its turns prepared (``conversation``) differs from ``alone``:
    # only these are handed back, not a second copy of the conversation.
    turns_prepared_only: dict[str, Any]
    pii_alone: Counter[str]  # what preparing ``alone`` (beyond its turns) counted

    @cached_property
    def conversation(self) -> Conversation:
        """The thread with its turns prepared: what is merged into a stored thread of the same id."""
        return self.alone.conversation.model_copy(update=self.turns_prepared_only)


@dataclass
class ThreadsOutcome:
    threads: list[PreparedThread]
    pii_turns: Counter[str]


def _fields_not_in(conversation: Conversation, copy: Conversation) -> dict[str, Any]:
    """The fields of ``conversation`` that ``copy`` (made from it by ``model_copy``) does not share."""
    return {
        name: value
        for name in Conversation.model_fields
        if (value := getattr(conversation, name)) is not getattr(copy, name)
    }


def prepare_threads(task: ThreadTask) -> ThreadsOutcome:
    return prepare_threads_with(_worker().preparer, task)


def prepare_threads_with(preparer: Preparer, task: ThreadTask) -> ThreadsOutcome:
    """The same steps and order as the in-process path: turns prepared message by message, the thread
    built from them, then the conversation prepared."""
    preparer.keep_handles(set(task.brand_handles))
    counts = preparer.redactor.counts
    before = Counter(counts)
    built: list[Conversation] = []
    for conversation_id, serialised in task.threads:
        messages = [load_message(data) for data in serialised]
        for message in messages:
            message.turn = preparer.turn(message.turn)
        built.append(build_conversation(messages, conversation_id))
    pii_turns = counts - before
    prepared = []
    for conversation in built:
        before = Counter(counts)
        alone = SerializedConversation.of(preparer.conversation(conversation, turns_prepared=True))
        prepared.append(PreparedThread(alone, _fields_not_in(conversation, alone.conversation), counts - before))
    return ThreadsOutcome(prepared, pii_turns)

"""Wires ingestion to the store: read every input, prepare, thread, write, report.

Both the CLI and (later) the API call ``ingest_paths``. Accounting rule: every input record ends as
exactly one of *stored* (part of a new or changed conversation), *duplicate* (already stored
unchanged, or the same message twice in this run) or *rejected* (with file, position and reason in
the report), so ``read == stored + duplicate + rejected``. A whole input that cannot be read counts
as one rejected record.

Re-running the same inputs changes nothing (ids are stable, writes are upserts that compare content
hashes), so an interrupted run can simply be run again.
"""

from __future__ import annotations

import functools
import json
import pickle
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vocmine.errors import ConfigError
from vocmine.ingest.gc_pauses import collecting_less_often
from vocmine.ingest.inputs.formats import FORMATS
from vocmine.ingest.inputs.sniff import Format
from vocmine.ingest.inputs.sources import InputFile, SkippedInput, expand_inputs
from vocmine.ingest.mail_threads import (
    MessageSpool,
    SpooledMessage,
    Thread,
    iter_thread_conversations,
    plan_threads,
)
from vocmine.ingest.mapping import Mapping
from vocmine.ingest.pool import OrderedPool, will_fork
from vocmine.ingest.prepare import Preparer
from vocmine.ingest.readers.mapped import read_mapped
from vocmine.ingest.records import Rejection, ThreadMessage
from vocmine.ingest.ticket_merge import combine_ticket
from vocmine.schema import Conversation, SerializedConversation, Turn, utcnow
from vocmine.services.ingest_inputs import (
    MBOX_PART_BYTES,
    UNREADABLE,
    FileRecognised,
    HowToRead,
    file_location,
    is_plain_mbox,
    iter_mbox_parts,
    read_input,
    unreadable_reason,
)
from vocmine.services.ingest_workers import (
    FileOutcome,
    PreparedThread,
    ThreadsOutcome,
    ThreadTask,
    WorkerEvent,
    import_before_forking,
    prepare_threads,
    prepare_threads_with,
    read_and_prepare,
    read_mbox_part_task,
    read_mbox_part_with,
    start_worker,
)
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import UpsertOutcome

# Workers start only for inputs of at least this many bytes (below it, starting them costs more than
# they save), and take at most this many bytes of an uncompressed input whole: they hand back all of
# an input's records at once, so larger ones are read here as they stream.
POOL_MIN_BYTES = 256_000
WORKER_FILE_BYTES = 16_000_000
THREAD_TASK_SIZE = 200  # threads a worker prepares per task
GROUP_FILES = 64  # small inputs a worker reads per task
GROUP_BYTES = 1_000_000
# Groups handed to the workers ahead of the one the run takes next. The run stores a batch of whole
# conversations between taking results; with two groups a worker queued, the workers ran dry while it
# did (the demo corpus: 1.5-1.8 s with six a worker against 1.6-2.2 s with two, in alternating runs).
# At most this many groups' results wait in memory: each is of at most GROUP_BYTES of input.
GROUPS_AHEAD_PER_WORKER = 6

# Exit statuses of every command (`vocmine ingest` uses them all), documented in the README.
EXIT_OK = 0
EXIT_SOME_REJECTED = 1
EXIT_USAGE = 2
EXIT_STORE = 3  # the store cannot be opened, is locked past the timeout, or cannot be written
EXIT_ENVIRONMENT = 4  # the machine: disk full, a folder that cannot be written, out of memory
EXIT_CRASH = 5  # a bug in vocmine: the message names the log holding the traceback


@dataclass
class IngestReport:
    run_id: str
    started_at: datetime
    inputs: list[str]
    finished_at: datetime | None = None
    files_read: int = 0
    files_skipped: list[SkippedInput] = field(default_factory=list)
    records_read: int = 0
    records_stored: int = 0
    records_duplicate: int = 0
    records_rejected: int = 0
    conversations: Counter[str] = field(default_factory=Counter)  # new / updated / unchanged
    conversations_by_channel: Counter[str] = field(default_factory=Counter)
    records_by_format: Counter[str] = field(default_factory=Counter)
    pii_redacted: dict[str, int] = field(default_factory=dict)
    rejection_samples: list[dict[str, str]] = field(default_factory=list)
    rejections_path: str | None = None
    summary_path: str | None = None

    @property
    def exit_status(self) -> int:
        return EXIT_SOME_REJECTED if self.records_rejected else EXIT_OK

    def accounted(self) -> bool:
        return self.records_read == self.records_stored + self.records_duplicate + self.records_rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "inputs": self.inputs,
            "files_read": self.files_read,
            "files_skipped": [{"file": s.name, "reason": s.reason} for s in self.files_skipped],
            "records": {
                "read": self.records_read,
                "stored": self.records_stored,
                "duplicate": self.records_duplicate,
                "rejected": self.records_rejected,
                "by_format": dict(self.records_by_format),
            },
            "conversations": {
                "new": self.conversations["new"],
                "updated": self.conversations["updated"],
                "unchanged": self.conversations["unchanged"],
                "by_channel": dict(self.conversations_by_channel),
            },
            "pii_redacted": self.pii_redacted,
            "rejections_file": self.rejections_path,
            "exit_status": self.exit_status,
        }


class IngestRun:
    """One ingestion run: feed it inputs, then ``finish()`` writes threads and closes the report."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        channel: str | None = None,
        format_name: str | None = None,
        mapping: Mapping | None = None,
        report_dir: Path | None = None,
        on_progress: Callable[[str, int], None] | None = None,
        on_changed: Callable[[str], None] | None = None,
    ) -> None:
        if mapping is not None and format_name:
            raise ConfigError("--map and --format both name how to read the input", hint="give one of them")
        # A mapping file replaces detection: every input is read through it.
        self.mapped = (
            Format("mapped", mapping.channel, functools.partial(read_mapped, mapping), "CSV/JSON through a mapping")
            if mapping is not None
            else None
        )
        self.settings = settings
        self.store = store
        self.channel = channel
        self.format_name = format_name
        self.on_progress = on_progress
        self.on_changed = on_changed  # the id of each conversation stored new or changed
        self.preparer = Preparer(settings)
        self._how = HowToRead(settings, self.mapped, channel, format_name)
        self._pool: OrderedPool | None = None
        self._scratch: Preparer | None = None  # prepares a thread batch here when its worker failed
        self.report = IngestReport(run_id=uuid.uuid4().hex[:12], started_at=utcnow(), inputs=[])
        self._spool = MessageSpool()
        self._batch: list[Conversation] = []
        # Ids in the batch read by a help-desk format: combined with the stored ticket, not replacing it
        self._ticket_ids: set[str] = set()
        self._ticket_formats = {f.name for f in FORMATS.values() if f.tickets}
        self._batch_records: dict[str, int] = {}
        directory = report_dir or default_report_dir(settings)  # the settings' folder, else beside the store
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.report.started_at.strftime("%Y%m%dT%H%M%SZ")
        self._rejections_path = directory / f"ingest-{stamp}-{self.report.run_id}.rejections.jsonl"
        self._summary_path = directory / f"ingest-{stamp}-{self.report.run_id}.summary.json"
        self._rejections = self._rejections_path.open("w", encoding="utf-8")
        self.report.rejections_path = str(self._rejections_path)
        self.report.summary_path = str(self._summary_path)

    # ------------------------------------------------------------ reading

    def ingest_files(self, files: list[InputFile], on_file: Callable[[InputFile], None] | None = None) -> None:
        """Every input in order. With workers, they read and prepare the inputs ahead of this process,
        which takes their results in input order: what is stored, and how it is counted, is what
        reading them one by one here gives."""
        groups = list(_file_groups(files)) if self.settings.ingest_workers >= 2 else []
        reads_here = len(groups) == 1 and all(source is not None for _, source in groups[0])
        pool = self._start_pool(files, run_waits=not reads_here)
        if pool is None or reads_here:
            # One task (a single input, say) would be read by one worker while this process waits for
            # all of it to be handed over: read here. The workers still prepare its threads.
            for source in files:
                if on_file:
                    on_file(source)
                self.ingest_file(source)
            return
        for group, outcomes in pool.map(_read_group, groups, ahead=GROUPS_AHEAD_PER_WORKER * pool.workers):
            for position, (index, _) in enumerate(group):
                source = files[index]
                if on_file:
                    on_file(source)
                outcome = outcomes[position] if isinstance(outcomes, list) else None
                if outcome is not None:
                    self._replay(source, outcome)
                elif (source.size or 0) > MBOX_PART_BYTES and is_plain_mbox(source, self._how):
                    self._ingest_mbox_in_parts(pool, source)
                else:  # read here: too large for a worker to hand back whole, or its worker failed
                    self.ingest_file(source)

    def ingest_file(self, source: InputFile) -> None:
        self.report.inputs.append(source.name)
        records_before = self.report.records_read
        progress = functools.partial(self.on_progress, source.name) if self.on_progress else None
        try:
            for event in read_input(source, self._how, progress):
                self._apply(event)
        except UNREADABLE as exc:  # corrupt gzip/zip, truncated stream, I/O errors, JSON nested too deep
            self._unreadable(source, self.report.records_read - records_before, unreadable_reason(exc))

    def _replay(self, source: InputFile, outcome: FileOutcome) -> None:
        """A worker's reading of ``source``, taken as if read here (its conversations come prepared)."""
        self.report.inputs.append(source.name)
        records_before = self.report.records_read
        self.preparer.redactor.counts.update(outcome.pii)
        for event in outcome.events:
            self._apply(event, prepared=True)
        if outcome.unreadable is not None:
            self._unreadable(source, self.report.records_read - records_before, outcome.unreadable)
        if self.on_progress:
            self.on_progress(source.name, source.size or 0)

    def _ingest_mbox_in_parts(self, pool: OrderedPool, source: InputFile) -> None:
        """A large mailbox, its parts read by the workers (``mbox_parts``), taken in order."""
        self.report.inputs.append(source.name)
        records_before = self.report.records_read
        self.report.files_read += 1  # recognised as a mailbox
        try:
            tasks = ((source, part) for part in iter_mbox_parts(source, self.settings))
            for (_, part), outcome in pool.map(read_mbox_part_task, tasks):
                if not isinstance(outcome, FileOutcome):  # its worker failed: read here instead
                    self._scratch = self._scratch or Preparer(self.settings)
                    outcome = read_mbox_part_with(self._scratch, self._how, source, part)
                self.preparer.redactor.counts.update(outcome.pii)
                for event in outcome.events:
                    self._apply(event, prepared=True)
                if outcome.unreadable is not None:
                    self._unreadable(source, self.report.records_read - records_before, outcome.unreadable)
                    return
                if self.on_progress:
                    self.on_progress(source.name, part.end)
        except UNREADABLE as exc:  # the mailbox itself could not be scanned for its parts
            self._unreadable(source, self.report.records_read - records_before, unreadable_reason(exc))

    def _apply(self, event: WorkerEvent, *, prepared: bool = False) -> None:
        if isinstance(event, FileRecognised):
            self.report.files_read += 1
        elif isinstance(event, Rejection):
            self._reject(event)
        else:
            self._take(*event, prepared=prepared)

    def _unreadable(self, source: InputFile, read: int, reason: str) -> None:
        self._reject(Rejection(file_location(source), f"input unreadable after {read} record(s): {reason}"))

    def _start_pool(self, files: list[InputFile], *, run_waits: bool) -> OrderedPool | None:
        """Workers pay off on inputs of some size; tiny ones are read here, as with one worker.
        ``run_waits``: this process has nothing to do until the workers' first results come."""
        if self.settings.ingest_workers < 2 or sum(f.size or 0 for f in files) < POOL_MIN_BYTES:
            return None
        if run_waits and will_fork():
            import_before_forking()  # once here, not once in each worker, while this process waits anyway
        self._pool = OrderedPool(self.settings.ingest_workers, start_worker, (self._how,))
        self._pool.start()  # they set up while this process reads
        return self._pool

    def _take(
        self,
        item: Conversation | ThreadMessage | SpooledMessage | Rejection,
        format_name: str,
        *,
        prepared: bool = False,
    ) -> None:
        if isinstance(item, Rejection):
            self._reject(item)
            return
        self.report.records_read += 1
        self.report.records_by_format[format_name] += 1
        if isinstance(item, ThreadMessage | SpooledMessage):
            # Prepared in _flush_threads, once every brand account in the input is known.
            self._spool.add(item)
            return
        conversation = item if prepared else self.preparer.conversation(item)
        if format_name in self._ticket_formats:
            self._ticket_ids.add(conversation.id)
        self._batch.append(conversation)
        if len(self._batch) >= self.settings.batch_size:
            self._flush_batch()

    def _reject(self, rejection: Rejection) -> None:
        self.report.records_read += 1
        self.report.records_rejected += 1
        entry = {
            "file": rejection.location.file,
            "position": rejection.location.position,
            "reason": self.preparer.reason(rejection.reason),
        }
        self._rejections.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if len(self.report.rejection_samples) < 20:
            self.report.rejection_samples.append(entry)

    # ------------------------------------------------------------ writing

    def _flush_batch(self) -> None:
        """Whole conversations (chats, calls) replace what is stored under their id; pieces of a
        help-desk ticket are combined with it (``combine_ticket``)."""
        if not self._batch:
            return
        latest: dict[str, Conversation] = {}
        pieces: Counter[str] = Counter()
        repeats = 0
        for conversation in self._batch:
            pieces[conversation.id] += 1
            if conversation.id in self._ticket_ids:
                latest[conversation.id] = combine_ticket(latest.get(conversation.id), conversation)
                continue
            if conversation.id in latest:
                repeats += 1
            latest[conversation.id] = conversation
        self.report.records_duplicate += repeats
        whole = [c for c in latest.values() if c.id not in self._ticket_ids]
        tickets = [c for c in latest.values() if c.id in self._ticket_ids]
        outcomes = list(zip(whole, self.store.upsert_conversations(whole), strict=True))
        if tickets:
            merged = self.store.upsert_conversations(tickets, merge=combine_ticket)
            outcomes += zip(tickets, merged, strict=True)
        for conversation, outcome in outcomes:
            self._count(conversation, outcome)
            records = pieces[conversation.id] if conversation.id in self._ticket_ids else 1
            if outcome is UpsertOutcome.UNCHANGED:
                self.report.records_duplicate += records
            else:
                self.report.records_stored += records
        self._batch = []
        self._ticket_ids.clear()

    def _flush_threads(self) -> None:
        """Threaded messages are merged into the stored conversation of their thread."""
        if not len(self._spool):
            return
        self.preparer.keep_handles(self._spool.brands)
        threads, duplicates = plan_threads(self._spool.headers, self.store.conversation_ids_for_turn_keys)
        self.report.records_duplicate += len(duplicates)

        def prepare(message: ThreadMessage) -> ThreadMessage:
            message.turn = self.preparer.turn(message.turn)
            return message

        # Turns are counted as new or duplicate against the stored thread that the store reads inside
        # its write (``merge``), so a reply another process stores meanwhile is kept, not overwritten.
        fresh_counts: dict[str, tuple[int, int]] = {}

        # With workers, each thread also comes prepared whole: what merge() would make of it when no
        # thread is stored under its id (keyed by the identity of the conversation handed to the store).
        prepared_whole: dict[int, PreparedThread] = {}

        def merge(previous: Conversation | None, conversation: Conversation) -> Conversation | SerializedConversation:
            known = {t.identity() for t in previous.turns} if previous else set()
            fresh = [t for t in conversation.turns if t.identity() not in known]
            fresh_counts[conversation.id] = (len(fresh), len(conversation.turns) - len(fresh))
            ready = prepared_whole.get(id(conversation))
            if previous is None and ready is not None:
                self.preparer.redactor.counts.update(ready.pii_alone)
                return ready.alone
            combined = _merge(previous, conversation, fresh) if previous else conversation
            return self.preparer.conversation(combined, turns_prepared=True)

        chunks = (
            iter_thread_conversations(self._spool, threads, self.settings.batch_size, prepare)
            if self._pool is None
            else self._threads_from_workers(self._pool, threads, prepared_whole)
        )
        for chunk in chunks:
            outcomes = self.store.upsert_conversations(chunk, merge=merge)
            for conversation, outcome in zip(chunk, outcomes, strict=True):
                fresh_count, repeated = fresh_counts[conversation.id]
                self._count(conversation, outcome)
                self.report.records_stored += fresh_count
                self.report.records_duplicate += repeated
            prepared_whole.clear()

    def _threads_from_workers(
        self, pool: OrderedPool, threads: list[Thread], prepared_whole: dict[int, PreparedThread]
    ) -> Iterator[list[Conversation]]:
        """The threads as conversations with prepared turns, a batch at a time, prepared by the workers
        ahead of the store writes; ``prepared_whole`` gets each one prepared whole."""
        brand_handles = frozenset(self._spool.brands)
        size = min(self.settings.batch_size, THREAD_TASK_SIZE)

        def tasks() -> Iterator[ThreadTask]:
            for start in range(0, len(threads), size):
                batch = threads[start : start + size]
                serialised = self._spool.load_serialised([seq for thread in batch for seq in thread.seqs])
                yield ThreadTask(
                    [(thread.conversation_id, [serialised[seq] for seq in thread.seqs]) for thread in batch],
                    brand_handles,
                )

        for task, outcome in pool.map(prepare_threads, tasks(), ahead=pool.workers + 1):
            if not isinstance(outcome, ThreadsOutcome):  # its worker failed: prepared here instead
                self._scratch = self._scratch or Preparer(self.settings)
                outcome = prepare_threads_with(self._scratch, task)
            self.preparer.redactor.counts.update(outcome.pii_turns)
            prepared_whole.update({id(t.conversation): t for t in outcome.threads})
            yield [t.conversation for t in outcome.threads]

    def _count(self, conversation: Conversation, outcome: UpsertOutcome) -> None:
        self.report.conversations[outcome.value] += 1
        if outcome is not UpsertOutcome.UNCHANGED:
            self.report.conversations_by_channel[conversation.channel] += 1
            if self.on_changed:
                self.on_changed(conversation.id)

    def close(self) -> None:
        """Release the report file and the message spool; ``finish`` does this too."""
        self._rejections.close()
        self._spool.close()
        if self._pool is not None:
            self._pool.close()

    def finish(self) -> IngestReport:
        try:
            self._flush_batch()
            self._flush_threads()
        finally:
            self.close()
        self.report.pii_redacted = self.preparer.pii_counts
        self.report.finished_at = utcnow()
        self._summary_path.write_text(json.dumps(self.report.to_dict(), indent=2), encoding="utf-8")
        return self.report


def _merge(previous: Conversation, update: Conversation, fresh: list[Turn]) -> Conversation:
    turns = sorted(
        [*previous.turns, *fresh],
        key=lambda t: (t.timestamp is None, t.timestamp.timestamp() if t.timestamp else 0.0),
    )
    return previous.model_copy(
        update={
            "turns": turns,
            "started_at": None,
            "ended_at": None,
            "language": None,
            "metadata": {**previous.metadata, **update.metadata},
            "survey": previous.survey or update.survey,
        }
    ).with_time_bounds()


def _worker_can_read(source: InputFile) -> bool:
    """Plain files of bounded size (an archive member inflates to an unknown size, and its opener
    cannot be sent to another process)."""
    if source.compressed or source.size is None or source.size > WORKER_FILE_BYTES:
        return False
    try:
        pickle.dumps(source)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


FileGroup = list[tuple[int, InputFile | None]]  # inputs by their index in the run, None for one read in the run


def _file_groups(files: list[InputFile]) -> Iterator[FileGroup]:
    """Consecutive inputs a worker reads, in groups of up to GROUP_FILES files or GROUP_BYTES bytes
    (a task per small file would spend more on handing it over than on reading it); an input the run
    reads itself is a group of its own."""
    group: FileGroup = []
    size = 0
    for index, source in enumerate(files):
        if not _worker_can_read(source):
            if group:
                yield group
            yield [(index, None)]
            group, size = [], 0
            continue
        group.append((index, source))
        size += source.size or 0
        if len(group) >= GROUP_FILES or size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _read_group(group: FileGroup) -> list[FileOutcome | None]:
    return [read_and_prepare(source) for _, source in group]


def ingest_paths(
    paths: list[str],
    settings: Settings,
    store: Store,
    *,
    channel: str | None = None,
    format_name: str | None = None,
    mapping: Mapping | None = None,
    report_dir: Path | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    on_file: Callable[[InputFile], None] | None = None,
    on_changed: Callable[[str], None] | None = None,
) -> IngestReport:
    """Ingest every input under ``paths``; raises InputPathError before reading if a path is bad.
    ``on_changed`` gets the id of every conversation the run stored new or changed."""
    files, skipped = expand_inputs(paths)
    run = IngestRun(
        settings,
        store,
        channel=channel,
        format_name=format_name,
        mapping=mapping,
        report_dir=report_dir,
        on_progress=on_progress,
        on_changed=on_changed,
    )
    run.report.files_skipped = skipped
    with store.bulk_load(), collecting_less_often():
        try:
            run.ingest_files(files, on_file)
        except BaseException:
            run.close()  # what was written stays; running again completes it
            raise
        return run.finish()


def default_report_dir(settings: Settings) -> Path:
    if settings.report_dir:
        return Path(settings.report_dir)
    return settings.beside_store("reports", "vocmine-reports")

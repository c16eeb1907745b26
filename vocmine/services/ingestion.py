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
import io
import json
import uuid
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from vocmine.errors import ConfigError
from vocmine.ingest.inputs.encoding import Utf8Transcoder, source_encoding
from vocmine.ingest.inputs.formats import FORMATS, detect_format
from vocmine.ingest.inputs.sniff import Format
from vocmine.ingest.inputs.sources import InputFile, SkippedInput, expand_inputs
from vocmine.ingest.mail_threads import MessageSpool, iter_thread_conversations, plan_threads
from vocmine.ingest.mapping import Mapping
from vocmine.ingest.prepare import Preparer
from vocmine.ingest.readers.mapped import read_mapped
from vocmine.ingest.records import Location, ReadContext, Rejection, ThreadMessage
from vocmine.ingest.ticket_merge import combine_ticket
from vocmine.schema import Conversation, Turn, utcnow
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import UpsertOutcome

HEAD_BYTES = 65536

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


class _PeekableStream(io.RawIOBase):
    """Lets format detection look at the first bytes of a stream that cannot seek (gzip, zip)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


INFLATION_FLOOR = 100_000_000  # below this, any ratio is fine: a small file of repeated rows is no bomb


class InflationLimitError(OSError):
    """A compressed input inflated past its limit: a decompression bomb, or a setting to raise."""


class _InflationGuard(io.RawIOBase):
    """Counts what a compressed input inflates to, and stops it at ``limit`` bytes, so that a small
    archive cannot keep the run decompressing for minutes or fill the disk with its spool."""

    def __init__(self, stream: BinaryIO, limit: int, compressed_size: int) -> None:
        self._stream = stream
        self._limit = limit
        self._compressed = compressed_size
        self._inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._inflated += len(data)
        if self._inflated > self._limit:
            raise InflationLimitError(
                f"{self._compressed:,} compressed bytes inflate past {self._limit:,} bytes: a decompression bomb, "
                "or raise VOCMINE_MAX_INFLATION_RATIO / VOCMINE_MAX_DECOMPRESSED_BYTES"
            )
        buffer[: len(data)] = data
        return len(data)


def _inflation_limit(settings: Settings, compressed_size: int | None) -> int:
    by_ratio = max(INFLATION_FLOOR, settings.max_inflation_ratio * (compressed_size or 0))
    return min(settings.max_decompressed_bytes, by_ratio)


# What reading one input can fail with when the input (not vocmine) is broken: the input is rejected
# with the error and the run goes on with the next one. zlib.error (corrupt deflate data) and
# BadZipFile are not OSErrors; RecursionError is JSON nested deeper than the parser goes.
UNREADABLE = (OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile, RecursionError)


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

    def ingest_file(self, source: InputFile) -> None:
        self.report.inputs.append(source.name)
        records_before = self.report.records_read
        try:
            with source.open() as opened:
                raw: BinaryIO = opened
                if source.compressed:
                    limit = _inflation_limit(self.settings, source.size)
                    raw = io.BufferedReader(_InflationGuard(opened, limit, source.size or 0))
                head = raw.read(HEAD_BYTES)
                stream = io.BufferedReader(_PeekableStream(head, raw), buffer_size=HEAD_BYTES)
                fmt = self.mapped or detect_format(source.format_name, head, self.channel, self.format_name)
                encoding = None if fmt and fmt.reads_bytes else source_encoding(head)
                if encoding:  # UTF-16, a BOM or a legacy code page: readers see UTF-8
                    transcoded = io.BufferedReader(Utf8Transcoder(stream, encoding), buffer_size=HEAD_BYTES)
                    head = transcoded.read(HEAD_BYTES)
                    stream = io.BufferedReader(_PeekableStream(head, transcoded), buffer_size=HEAD_BYTES)
                    fmt = self.mapped or detect_format(source.format_name, head, self.channel, self.format_name)
                if fmt is None:
                    self._reject(Rejection(_file_location(source), _unrecognised(head)))
                    return
                self.report.files_read += 1
                ctx = ReadContext(
                    source.name,
                    self.settings,
                    on_progress=functools.partial(self.on_progress, source.name) if self.on_progress else None,
                )
                for item in fmt.reader(stream, ctx):
                    self._take(item, fmt.name)
        except UNREADABLE as exc:  # corrupt gzip/zip, truncated stream, I/O errors, JSON nested too deep
            read = self.report.records_read - records_before
            self._reject(
                Rejection(
                    _file_location(source), f"input unreadable after {read} record(s): {type(exc).__name__}: {exc}"
                )
            )

    def _take(self, item: Conversation | ThreadMessage | Rejection, format_name: str) -> None:
        if isinstance(item, Rejection):
            self._reject(item)
            return
        self.report.records_read += 1
        self.report.records_by_format[format_name] += 1
        if isinstance(item, ThreadMessage):
            # Prepared in _flush_threads, once every brand account in the input is known.
            self._spool.add(item)
            return
        prepared = self.preparer.conversation(item)
        if format_name in self._ticket_formats:
            self._ticket_ids.add(prepared.id)
        self._batch.append(prepared)
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

        def merge(previous: Conversation | None, conversation: Conversation) -> Conversation:
            known = {t.identity() for t in previous.turns} if previous else set()
            fresh = [t for t in conversation.turns if t.identity() not in known]
            fresh_counts[conversation.id] = (len(fresh), len(conversation.turns) - len(fresh))
            combined = _merge(previous, conversation, fresh) if previous else conversation
            return self.preparer.conversation(combined, turns_prepared=True)

        for chunk in iter_thread_conversations(self._spool, threads, self.settings.batch_size, prepare):
            outcomes = self.store.upsert_conversations(chunk, merge=merge)
            for conversation, outcome in zip(chunk, outcomes, strict=True):
                fresh_count, repeated = fresh_counts[conversation.id]
                self._count(conversation, outcome)
                self.report.records_stored += fresh_count
                self.report.records_duplicate += repeated

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


def _file_location(source: InputFile) -> Location:
    return Location(source.name, "file")


def _unrecognised(head: bytes) -> str:
    if not head.strip():
        return "empty file"
    if b"\x00" in head[:1024]:
        return "binary content: not a format vocmine reads (use --format to force one)"
    return "format not recognised from name or content (use --format to name it)"


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
    try:
        for source in files:
            if on_file:
                on_file(source)
            run.ingest_file(source)
    except BaseException:
        run.close()  # what was written stays; running again completes it
        raise
    return run.finish()


def default_report_dir(settings: Settings) -> Path:
    if settings.report_dir:
        return Path(settings.report_dir)
    return settings.beside_store("reports", "vocmine-reports")

"""Reading one input into the items its format reader makes: open (inflating with a guard against
bombs), detect the format from name and content, transcode to UTF-8, read.

Shared by the ingesting process and its worker processes (``ingest_workers``): both read an input
through ``read_input`` and so see the same items in the same order.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from vocmine.ingest.inputs.encoding import Utf8Transcoder, source_encoding
from vocmine.ingest.inputs.formats import detect_format
from vocmine.ingest.inputs.sniff import Format
from vocmine.ingest.inputs.sources import InputFile
from vocmine.ingest.readers.mail import MboxPart, mbox_parts
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings

HEAD_BYTES = 65536
# A large mailbox is read by workers in parts of about this size. The last part is read by one worker
# while the others have nothing left: with 4 MB parts that tail was a third of a second on a 20 MB
# mailbox (five parts, two workers); 1 MB parts made reading it 1.53-2.04 s against 1.70-2.30 s
# (five alternating runs each).
MBOX_PART_BYTES = 1_000_000
INFLATION_FLOOR = 100_000_000  # below this, any ratio is fine: a small file of repeated rows is no bomb

# What reading one input can fail with when the input (not vocmine) is broken: the input is rejected
# with the error and the run goes on with the next one. zlib.error (corrupt deflate data) and
# BadZipFile are not OSErrors; RecursionError is JSON nested deeper than the parser goes.
UNREADABLE = (OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile, RecursionError)


class InflationLimitError(OSError):
    """A compressed input inflated past its limit: a decompression bomb, or a setting to raise."""


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


@dataclass(frozen=True)
class HowToRead:
    """What the run says about every input: a mapping's format, or a forced format name and channel."""

    settings: Settings
    mapped: Format | None = None
    channel: str | None = None
    format_name: str | None = None


@dataclass(frozen=True)
class FileRecognised:
    """Read in the stream before the first item: the input's format was recognised."""


# One step of reading an input: the format was recognised, an item (with the format that read it),
# or the rejection of the whole input (a format not recognised).
Event = FileRecognised | tuple[Item, str] | Rejection


def read_input(source: InputFile, how: HowToRead, on_progress: Callable[[int], None] | None = None) -> Iterator[Event]:
    """The events of reading ``source``; raises one of ``UNREADABLE`` where the input is broken."""
    with source.open() as opened:
        raw: BinaryIO = opened
        if source.compressed:
            limit = _inflation_limit(how.settings, source.size)
            raw = io.BufferedReader(_InflationGuard(opened, limit, source.size or 0))
        head = raw.read(HEAD_BYTES)
        stream = io.BufferedReader(_PeekableStream(head, raw), buffer_size=HEAD_BYTES)
        fmt = how.mapped or detect_format(source.format_name, head, how.channel, how.format_name)
        encoding = None if fmt and fmt.reads_bytes else source_encoding(head)
        if encoding:  # UTF-16, a BOM or a legacy code page: readers see UTF-8
            transcoded = io.BufferedReader(Utf8Transcoder(stream, encoding), buffer_size=HEAD_BYTES)
            head = transcoded.read(HEAD_BYTES)
            stream = io.BufferedReader(_PeekableStream(head, transcoded), buffer_size=HEAD_BYTES)
            fmt = how.mapped or detect_format(source.format_name, head, how.channel, how.format_name)
        if fmt is None:
            yield Rejection(file_location(source), _unrecognised(head))
            return
        yield FileRecognised()
        ctx = ReadContext(source.name, how.settings, on_progress=on_progress)
        for item in fmt.reader(stream, ctx):
            yield item, fmt.name


def unreadable_reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def file_location(source: InputFile) -> Location:
    return Location(source.name, "file")


def _unrecognised(head: bytes) -> str:
    if not head.strip():
        return "empty file"
    if b"\x00" in head[:1024]:
        return "binary content: not a format vocmine reads (use --format to force one)"
    return "format not recognised from name or content (use --format to name it)"


def is_plain_mbox(source: InputFile, how: HowToRead) -> bool:
    """Whether ``source`` is an uncompressed mailbox (read as bytes, no transcoding): one that can be
    read in parts, each from its own byte range."""
    if source.compressed or how.mapped is not None:
        return False
    try:
        with source.open() as stream:
            head = stream.read(HEAD_BYTES)
    except UNREADABLE:
        return False  # read whole, which rejects it with the reason
    fmt = detect_format(source.format_name, head, how.channel, how.format_name)
    return fmt is not None and fmt.name == "mbox" and fmt.reads_bytes


def iter_mbox_parts(source: InputFile, settings: Settings) -> Iterator[MboxPart]:
    with source.open() as stream:
        yield from mbox_parts(stream, settings.max_record_bytes, MBOX_PART_BYTES)

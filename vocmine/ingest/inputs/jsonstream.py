"""Read JSON records from a stream without loading the whole file.

One reader serves every JSON shape we see in exports: a single (pretty-printed) document, JSON
Lines, concatenated documents, and a top-level array whose elements are the records (``unwrap_array``).
Memory stays at one chunk plus one record.

A record that does not parse is reported with its line and the decoder's message, and reading
resumes at the next line; inside a top-level array there is no safe place to resume, so the rest of
the array is reported as one rejection. Bytes that are not UTF-8 are decoded as lone surrogates
(``surrogateescape``) rather than stopping the file: the record that holds them is rejected and the
next one read.

Research corpora add one more shape, the *container object*: the whole data set as one top-level
object whose members are the records or arrays of them. MultiWOZ 2.0/2.1 ``data.json`` maps each
dialogue id to its dialogue (``{"SNG0073.json": {...}, ...}``), ABCD ``abcd_v1.1.json`` maps each split
to an array of dialogues (``{"train": [...], "dev": [...], "test": [...]}``). Such a file is far larger
than one record may be, so ``iter_json_records`` (which reads an object whole) cannot read it;
``iter_container_members`` yields its members one at a time, and the elements of a member that is an
array, each as a ``Member`` that names the key it came from. Whether a top-level object is a container
or a record of its own is decided by its first key (``is_container``): ``{"train": [...]}`` is a
container, ``{"dialogue_id": ...}`` a record. Top-level arrays (one after another, too), JSON Lines and
concatenated documents are read there as well, so one call serves every shape a corpus is shipped in.
Inside a container, as inside an array, there is no safe place to resume: a member or element that
cannot be read (bytes that are not UTF-8 included) ends the reading, with a rejection that says the
rest was not read.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from vocmine.ingest.records import Location, ReadContext, Rejection

CHUNK = 1 << 16
_DECODER = json.JSONDecoder()
# Skipped with a regular expression, not a character at a time: a file of megabytes of whitespace
# took minutes of CPU the slow way.
_SKIP = {extra: re.compile(f"[ \\t\\r\\n\\ufeff{re.escape(extra)}]*") for extra in ("", ",")}
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes that are not UTF-8
NOT_UTF8 = "not UTF-8 text; JSON input must be UTF-8"
_CUT_TOKEN = 12  # longer than any token a chunk boundary can cut and JSON rejects: "\uXXXX", "false"


@dataclass(frozen=True)
class JsonRecord:
    value: Any
    location: Location


@dataclass(frozen=True)
class Member:
    """One record of ``iter_container_members``: ``key`` is the container member it came from (a split
    name, a dialogue id), or None for a record at the top level (an array element, a JSON Lines line)."""

    key: str | None
    value: Any
    location: Location


class _TextBuffer:
    """Incrementally decoded text with a running line count of what has been consumed.

    ``grow``: each read is at least as large as the text still buffered, so a value that spans many
    chunks is re-parsed a few times rather than once a chunk (the container reader asks for it).
    """

    def __init__(self, stream: BinaryIO, ctx: ReadContext, *, grow: bool = False) -> None:
        self.stream = stream
        self.ctx = ctx
        self.grow = grow
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.pos = 0
        self.line = 1
        self.bytes_read = 0
        self.eof = False
        self.mark: int | None = None  # text from here on is kept by ``fill`` (to look ahead and go back)

    def fill(self) -> bool:
        """Read one more chunk; False at end of stream."""
        if self.eof:
            return False
        chunk = self.stream.read(max(CHUNK, len(self.text) - self.pos) if self.grow else CHUNK)
        self.bytes_read += len(chunk)
        if self.ctx.on_progress:
            self.ctx.on_progress(self.bytes_read)
        self.eof = not chunk
        keep = self.pos if self.mark is None else min(self.mark, self.pos)
        self.text = self.text[keep:] + self.decoder.decode(chunk, final=self.eof)
        self.pos -= keep
        if self.mark is not None:
            self.mark -= keep
        return True

    def skip_whitespace(self, extra: str = "") -> str | None:
        """Advance past whitespace (and ``extra``: "" or ","); the next character, or None at EOF."""
        skip = _SKIP[extra]
        while True:
            end = skip.match(self.text, self.pos).end()  # type: ignore[union-attr]  # * always matches
            self.advance(end)
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return None

    def advance(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_line(self) -> None:
        while True:
            newline = self.text.find("\n", self.pos)
            if newline >= 0:
                self.advance(newline + 1)
                return
            self.pos = len(self.text)
            if not self.fill():
                return

    def decode_value(self, max_chars: int) -> tuple[Any, bool] | str:
        """Decode the JSON value at the cursor: (value, True), or an error message."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # JSON errors are decided by the prefix, so only an error near the end of the buffer
                # (a token the chunk boundary cut: "\u00", "nu" of null) or inside a string that has
                # not ended yet can be cured by reading more.
                unterminated = exc.msg.startswith("Unterminated string")
                near_end = exc.pos >= len(self.text) - _CUT_TOKEN or unterminated
                too_large = len(self.text) - self.pos >= max_chars
                if near_end and not self.eof and not too_large:
                    self.fill()
                    continue
                if too_large:
                    return f"record larger than the {max_chars:,}-character limit"
                if exc.pos >= len(self.text) - 1 or unterminated:
                    return "truncated JSON: the file ends inside this record"
                return f"invalid JSON: {exc.msg} (character {exc.pos - self.pos + 1} of the record)"
            if end >= len(self.text) and not self.eof and len(self.text) - self.pos < max_chars:
                self.fill()  # a number that ends at the boundary may go on ("2" of "2.5"): read on
                continue
            if end - self.pos > max_chars:
                self.advance(end)
                return f"record larger than the {max_chars:,}-character limit"
            invalid = _NOT_UTF8.search(self.text, self.pos, end)
            self.advance(end)
            if invalid:
                return NOT_UTF8
            return value, True


def iter_json_records(
    stream: BinaryIO, ctx: ReadContext, *, unwrap_array: bool = True
) -> Iterator[JsonRecord | Rejection]:
    buf = _TextBuffer(stream, ctx)
    max_chars = ctx.settings.max_record_bytes
    index = 0
    try:
        first = buf.skip_whitespace()
        if first is None:
            yield Rejection(Location(ctx.name, "file"), "empty file: no JSON records")
            return
        if first == "[" and unwrap_array:
            buf.advance(buf.pos + 1)
            yield from _array_elements(buf, ctx, max_chars)
            return
        while (char := buf.skip_whitespace()) is not None:
            location = Location(ctx.name, f"line {buf.line}")
            index += 1
            if char not in "{[":
                yield Rejection(location, f"not a JSON object (starts with {char!r})")
                buf.skip_line()
                continue
            decoded = buf.decode_value(max_chars)
            if isinstance(decoded, str):
                yield Rejection(location, decoded)
                buf.skip_line()
                continue
            yield JsonRecord(decoded[0], location)
    except UnicodeDecodeError as exc:
        yield Rejection(
            Location(ctx.name, f"line {buf.line}"),
            f"not UTF-8 text ({exc.reason}); JSON input must be UTF-8 – the rest of the file was not read",
        )


def _array_elements(buf: _TextBuffer, ctx: ReadContext, max_chars: int) -> Iterator[JsonRecord | Rejection]:
    index = 0
    while True:
        char = buf.skip_whitespace(",")
        if char is None:
            yield Rejection(
                Location(ctx.name, f"element {index} at line {buf.line}"),
                "truncated JSON: the array is never closed",
            )
            return
        if char == "]":
            buf.advance(buf.pos + 1)
            trailing = buf.skip_whitespace()
            if trailing is not None:
                buf.advance(buf.pos + 1)
                yield Rejection(Location(ctx.name, f"line {buf.line}"), "unexpected content after the array")
            return
        location = Location(ctx.name, f"element {index} at line {buf.line}")
        decoded = buf.decode_value(max_chars)
        if decoded == NOT_UTF8:  # it parsed, so the next element starts after it
            yield Rejection(location, decoded)
            index += 1
            continue
        if isinstance(decoded, str):
            yield Rejection(location, decoded + "; the rest of the array was not read")
            return
        yield JsonRecord(decoded[0], location)
        index += 1


def iter_container_members(
    stream: BinaryIO, ctx: ReadContext, *, is_container: Callable[[str], bool]
) -> Iterator[Member | Rejection]:
    """The records of a file that may hold container objects (see the module docstring)."""
    buf = _TextBuffer(stream, ctx, grow=True)
    limit = ctx.settings.max_record_bytes
    if buf.skip_whitespace() is None:
        yield Rejection(Location(ctx.name, "file"), "empty file: no JSON records")
        return
    while (char := buf.skip_whitespace()) is not None:
        if char == "[":
            buf.advance(buf.pos + 1)
            if not (yield from _container_elements(buf, ctx, None, limit)):
                return
        elif char == "{" and _opens_container(buf, is_container):
            if not (yield from _container_members(buf, ctx, limit)):
                return
        else:
            location = Location(ctx.name, f"line {buf.line}")
            decoded = buf.decode_value(limit) if char == "{" else f"not a JSON object (starts with {char!r})"
            if isinstance(decoded, str):
                yield Rejection(location, decoded)
                buf.skip_line()
            else:
                yield Member(None, decoded[0], location)


def _opens_container(buf: _TextBuffer, is_container: Callable[[str], bool]) -> bool:
    """Look at the first key of the object at the cursor without consuming it."""
    buf.mark, line = buf.pos, buf.line
    buf.advance(buf.pos + 1)
    found = False
    if buf.skip_whitespace() == '"':
        key = buf.decode_value(4096)
        found = isinstance(key, tuple) and isinstance(key[0], str) and is_container(key[0])
    back = buf.mark or 0  # where the object starts, moved along if the buffer was refilled meanwhile
    buf.pos, buf.line, buf.mark = back, line, None
    return found


def _container_members(buf: _TextBuffer, ctx: ReadContext, limit: int) -> Generator[Member | Rejection, None, bool]:
    """The members of the container object at the cursor; False when the rest cannot be read."""
    buf.advance(buf.pos + 1)
    while True:
        char = buf.skip_whitespace(",")
        location = Location(ctx.name, f"line {buf.line}")
        if char == "}":
            buf.advance(buf.pos + 1)
            return True
        key = buf.decode_value(4096) if char == '"' else "expected a member name"
        if isinstance(key, str) or buf.skip_whitespace() != ":":
            yield Rejection(location, f"{key if isinstance(key, str) else 'invalid JSON'}; the rest was not read")
            return False
        buf.advance(buf.pos + 1)
        name = str(key[0])
        location = Location(ctx.name, f"{name[:80]} at line {location.position.split()[-1]}")
        if buf.skip_whitespace() == "[":
            buf.advance(buf.pos + 1)
            if not (yield from _container_elements(buf, ctx, name, limit)):
                return False
            continue
        value = buf.decode_value(limit)
        if isinstance(value, str):
            yield Rejection(location, f"{value}; the rest was not read")
            return False
        yield Member(name, value[0], location)


def _container_elements(
    buf: _TextBuffer, ctx: ReadContext, key: str | None, limit: int
) -> Generator[Member | Rejection, None, bool]:
    """The elements of the array whose "[" was just consumed; False when the rest cannot be read."""
    index = 0
    while True:
        char = buf.skip_whitespace(",")
        where = f"{key} element {index}" if key else f"element {index}"
        location = Location(ctx.name, f"{where} at line {buf.line}")
        if char is None:
            yield Rejection(location, "truncated JSON: the array is never closed")
            return False
        if char == "]":
            buf.advance(buf.pos + 1)
            return True
        value = buf.decode_value(limit)
        if isinstance(value, str):
            yield Rejection(location, f"{value}; the rest of the array was not read")
            return False
        yield Member(key, value[0], location)
        index += 1

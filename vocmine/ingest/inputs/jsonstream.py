"""Read JSON records from a stream without loading the whole file.

One reader serves every JSON shape we see in exports: a single (pretty-printed) document, JSON
Lines, concatenated documents, and a top-level array whose elements are the records (``unwrap_array``).
Memory stays at one chunk plus one record.

A record that does not parse is reported with its line and the decoder's message, and reading
resumes at the next line; inside a top-level array there is no safe place to resume, so the rest of
the array is reported as one rejection. Bytes that are not UTF-8 are decoded as lone surrogates
(``surrogateescape``) rather than stopping the file: the record that holds them is rejected and the
next one read.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
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


@dataclass(frozen=True)
class JsonRecord:
    value: Any
    location: Location


class _TextBuffer:
    """Incrementally decoded text with a running line count of what has been consumed."""

    def __init__(self, stream: BinaryIO, ctx: ReadContext) -> None:
        self.stream = stream
        self.ctx = ctx
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.pos = 0
        self.line = 1
        self.bytes_read = 0
        self.eof = False

    def fill(self) -> bool:
        """Read one more chunk; False at end of stream."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        self.bytes_read += len(chunk)
        if self.ctx.on_progress:
            self.ctx.on_progress(self.bytes_read)
        if not chunk:
            self.eof = True
            self.text = self.text[self.pos :] + self.decoder.decode(b"", final=True)
        else:
            self.text = self.text[self.pos :] + self.decoder.decode(chunk)
        self.pos = 0
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
                # JSON errors are decided by the prefix, so only an error at the end of the buffer
                # (or inside a string that has not ended yet) can be cured by reading more.
                at_end = exc.pos >= len(self.text) - 1 or exc.msg.startswith("Unterminated string")
                too_large = len(self.text) - self.pos >= max_chars
                if at_end and not self.eof and not too_large:
                    self.fill()
                    continue
                if too_large:
                    return f"record larger than the {max_chars:,}-character limit"
                if at_end:
                    return "truncated JSON: the file ends inside this record"
                return f"invalid JSON: {exc.msg} (character {exc.pos - self.pos + 1} of the record)"
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

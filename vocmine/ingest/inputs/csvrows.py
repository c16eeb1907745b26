"""Stream the rows of a CSV export, each with its line and every bad row rejected with a reason.

Shared by every CSV reader (social posts, mapped exports, surveys). The delimiter is sniffed from the
header line (comma, semicolon or tab: European Excel writes semicolons); lines longer than the record
limit are read through in pieces and rejected, so one huge field never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from vocmine.ingest.records import Location, ReadContext, Rejection

DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class CsvRow:
    """One data row: cells by the header's column name (trimmed, case kept) and where it starts."""

    cells: dict[str, str]
    location: Location


@dataclass(frozen=True)
class CsvHeader:
    columns: list[str]


class BoundedLines:
    """The CSV's physical lines, none longer than the record limit: a longer line is read through in
    pieces and dropped (the csv module then sees a blank line), and its number is kept for the
    reader to reject."""

    CHUNK = 1 << 16

    def __init__(self, stream: BinaryIO, ctx: ReadContext) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="\n")
        self.ctx = ctx
        self.limit = ctx.settings.max_record_bytes
        self.number = 0
        self.oversized: list[int] = []  # numbers of dropped lines, taken by the reader

    def __iter__(self) -> Iterator[str]:
        consumed = 0
        while True:
            line = self.text.readline(self.limit + 1)
            if not line:
                return
            self.number += 1
            consumed += len(line)
            if len(line) > self.limit and not line.endswith("\n"):
                while (rest := self.text.readline(self.CHUNK)) and not rest.endswith("\n"):
                    consumed += len(rest)
                consumed += len(rest)
                self.oversized.append(self.number)
                line = "\n"
            if self.ctx.on_progress:
                self.ctx.on_progress(consumed)
            if "\r" not in line:  # the common case, what the steps below give it
                yield line if line.endswith("\n") else line + "\n"
                continue
            body = line[:-1] if line.endswith("\n") else line
            body = body[:-1] if body.endswith("\r") else body
            yield body.replace("\r", " ") + "\n"


def iter_csv_rows(
    stream: BinaryIO, ctx: ReadContext, delimiter: str | None = None
) -> Iterator[CsvHeader | CsvRow | Rejection]:
    """The header first (``CsvHeader``), then each non-blank row as a ``CsvRow`` or a ``Rejection``
    (wrong number of fields, oversized, malformed). A file that is not UTF-8 ends with a rejection
    naming the line: the ingestion layer transcodes legacy encodings before readers see them."""
    # The csv module's field limit is process-wide; it is set to the record limit here, where a file
    # is read under it, so a quoted field spanning lines cannot grow past it either.
    csv.field_size_limit(ctx.settings.max_record_bytes)
    lines = BoundedLines(stream, ctx)
    line_iter = iter(lines)
    try:
        first = next(line_iter, None)
    except UnicodeDecodeError as exc:
        yield Rejection(Location(ctx.name, "line 1"), f"unreadable CSV header: {exc}")
        return
    if first is None or not first.strip():
        yield Rejection(Location(ctx.name, "file"), "empty CSV file")
        return
    delimiter = delimiter or max(DELIMITERS, key=first.count)

    reader = csv.reader(itertools.chain([first], line_iter), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        yield Rejection(Location(ctx.name, "line 1"), f"unreadable CSV header: {exc}")
        return
    yield CsvHeader(header)
    line_number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            yield from _oversized(lines, ctx)
            return
        except UnicodeDecodeError as exc:
            yield Rejection(
                Location(ctx.name, f"line {reader.line_num + 1}"),
                f"not UTF-8 text ({exc.reason}) – the rest of the file was not read",
            )
            return
        except csv.Error as exc:
            yield Rejection(Location(ctx.name, f"line {reader.line_num}"), f"malformed CSV: {exc}")
            continue
        start_line, line_number = line_number + 1, reader.line_num
        location = Location(ctx.name, f"line {start_line}")
        if lines.oversized:
            yield from _oversized(lines, ctx)
        joined = "".join(row)
        if not joined.strip():
            continue  # blank line: no record
        if len(row) != len(header):
            yield Rejection(location, f"expected {len(header)} fields, found {len(row)}")
            continue
        if len(joined) > ctx.settings.max_record_bytes:
            yield Rejection(location, "record larger than the size limit")
            continue
        yield CsvRow(dict(zip(header, row, strict=True)), location)


def _oversized(lines: BoundedLines, ctx: ReadContext) -> Iterator[Rejection]:
    while lines.oversized:
        yield Rejection(
            Location(ctx.name, f"line {lines.oversized.pop(0)}"),
            f"record larger than the {ctx.settings.max_record_bytes:,}-byte limit (VOCMINE_MAX_RECORD_BYTES)",
        )

"""What format detection looks at, and what a format is.

Each reader family (``vocmine.ingest.readers.*``) declares its formats as ``Format`` objects with a
``detect`` test over a ``Sniff`` of the input; ``vocmine.ingest.inputs.formats`` collects them.
Detection is by content first: the name's suffix only breaks ties a content test leaves open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from vocmine.ingest.records import Reader
from vocmine.schema import Channel

T = TypeVar("T")

_KEY = re.compile(rb'"([A-Za-z_@$][A-Za-z0-9_@$.:-]*)"\s*:')


@dataclass(frozen=True)
class Sniff:
    """The first 64 KiB of an input (UTF-8, BOM removed), its lower-cased name and suffix (after
    .gz), and the channel the user named, if any."""

    name: str
    head: bytes
    channel: str | None = None
    _derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def suffix(self) -> str:
        last = self.name.rsplit("/", 1)[-1]
        return last.rsplit(".", 1)[-1] if "." in last else ""

    @cached_property
    def stripped(self) -> bytes:
        return self.head.lstrip(b"\xef\xbb\xbf \t\r\n")

    @cached_property
    def is_json(self) -> bool:
        return self.stripped[:1] in (b"{", b"[")

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every JSON object key seen in the head (empty when the input is not JSON)."""
        if not self.is_json:
            return frozenset()
        return frozenset(k.decode("ascii") for k in set(_KEY.findall(self.head)))  # each key decoded once

    @cached_property
    def text(self) -> str:
        """The head as text (undecodable bytes replaced), for line-oriented tests."""
        return self.stripped.decode("utf-8", errors="replace")

    @cached_property
    def lines(self) -> list[str]:
        """The first lines of a text input, from its first 16 KiB (the last, which the cut may have
        split, dropped); empty for JSON and binary inputs. Line-pattern tests share this."""
        if self.is_json or "\x00" in self.text[:4096]:
            return []
        text = self.text[:16384]
        lines = text.splitlines()
        return lines[:-1] if len(text) < len(self.text) or len(self.head) >= 65536 else lines

    @cached_property
    def csv_header(self) -> tuple[str, ...]:
        """The first line split as CSV (lower-cased, trimmed), or () when it does not look like one."""
        import csv
        import io

        if self.is_json or b"\x00" in self.head[:4096]:
            return ()
        first = self.text.split("\n", 1)[0].strip("\r")
        if not first or ("," not in first and ";" not in first and "\t" not in first):
            return ()
        delimiter = max((",", ";", "\t"), key=first.count)
        try:
            row = next(csv.reader(io.StringIO(first), delimiter=delimiter))
        except (csv.Error, StopIteration):
            return ()
        return tuple(cell.strip().strip('"').lower() for cell in row)

    def has_keys(self, *names: str) -> bool:
        return self.keys.issuperset(names)

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per input: for what several formats' tests derive from the
        head alike (every input is tested by every format: repeating it was about 5% of ingesting the demo)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]


@dataclass(frozen=True)
class Format:
    """One input format: its name, channel, reader, a line for `vocmine formats`, where a user gets
    such a file (the export button or API endpoint), and its content test (None for the core formats,
    which ``formats`` tests itself, after every family's tests). ``reads_bytes`` formats (e-mail)
    decode their own parts by the charsets they declare, so their inputs are never transcoded.
    ``tickets`` formats (help desks; Genesys, one transcript per call leg) export one conversation in
    pieces across files and set each record's channel themselves: their conversations are combined
    with the stored one of the same id (``vocmine.ingest.ticket_merge``) instead of replacing it, and
    ``--channel`` does not exclude them."""

    name: str
    channel: Channel
    reader: Reader
    description: str
    export: str = ""
    detect: Callable[[Sniff], bool] | None = field(default=None, compare=False)
    reads_bytes: bool = False
    tickets: bool = False

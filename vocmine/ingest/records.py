"""What format readers produce, and the context they are given.

A reader turns one input stream into a sequence of items, each one of:

* ``Conversation`` – a whole conversation (a chat transcript, a call);
* ``ThreadMessage`` – one message of a thread that is only whole once every input has been read
  (an e-mail, a social post); the threading step assembles these into conversations;
* ``Rejection`` – a record that cannot be used, with where it is and why.

Every input record becomes exactly one item, so the run can account for all of them.
Readers never raise on bad content: they reject. They raise only for programming errors.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from vocmine.ingest.cleaning import decode_guessing
from vocmine.schema import Channel, Conversation, SurveyScores, Turn
from vocmine.settings import Settings


@dataclass(frozen=True)
class Location:
    """Where a record is: the input's name and a human-readable position inside it."""

    file: str
    position: str  # "line 12", "byte 4096", "message 3 at byte 1830", "index 4", "file"

    def __str__(self) -> str:
        return f"{self.file} ({self.position})"


@dataclass(frozen=True)
class Rejection:
    location: Location
    reason: str


@dataclass
class ThreadMessage:
    """One message of a thread (e-mail or social post), before threading.

    ``parent_keys`` are the keys this message answers, nearest last (e-mail References order:
    the thread root comes first). ``fallback_thread`` groups messages the source does not link
    (e-mails without In-Reply-To/References but with the same normalised subject and customer).
    """

    channel: Channel
    source: str
    key: str
    parent_keys: list[str]
    turn: Turn
    location: Location
    subject: str | None = None
    fallback_thread: str | None = None
    customer_id: str | None = None
    brand: str | None = None
    survey: SurveyScores | None = None
    metadata: dict[str, object] = field(default_factory=dict)


Item = Conversation | ThreadMessage | Rejection


@dataclass
class ReadContext:
    """What a reader needs besides the stream: the input's display name and the settings."""

    name: str
    settings: Settings
    # Called with the number of bytes consumed so far, for progress bars.
    on_progress: Callable[[int], None] | None = None


Reader = Callable[[BinaryIO, ReadContext], Iterator[Item]]


def read_whole(stream: BinaryIO, ctx: ReadContext, what: str) -> bytes | Rejection:
    """Read a one-record input (an .eml, a caption file, a transcript) up to the size limit."""
    data = stream.read(ctx.settings.max_record_bytes + 1)
    if ctx.on_progress:
        ctx.on_progress(len(data))
    if len(data) > ctx.settings.max_record_bytes:
        return Rejection(
            Location(ctx.name, "file"), f"{what} larger than the {ctx.settings.max_record_bytes:,}-byte limit"
        )
    return data


def read_whole_text(stream: BinaryIO, ctx: ReadContext, what: str, kind: str) -> str | Rejection:
    """A one-record text input (a transcript, a chat export) as text: UTF-8 (with or without a
    BOM), else the encoding charset-normalizer finds; ``what`` names it in the size rejection,
    ``kind`` in the rejection of binary content."""
    data = read_whole(stream, ctx, what)
    if isinstance(data, Rejection):
        return data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = decode_guessing(data)
    if "\x00" in text:
        return Rejection(Location(ctx.name, "file"), f"binary content, not a {kind}")
    return text


# Tried in order: where a date could be day-first or month-first, day-first wins unless the time has
# AM/PM, which only US-style (month-first) exports write (SurveyMonkey, Excel in en-US).
_TIME_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",
    "%Y-%m-%d %H:%M:%S %z",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)
# Twitter's time stamp in UTC ("Tue Oct 31 22:10:47 +0000 2017", every tweet of a TWCS export): read
# field by field, what the RFC 2822 parser makes of it, in 3.9 µs a stamp against 6.2 µs through
# the parser; any other offset, or a field out of range, goes the general way below.
_MONTHS = {
    m: n for n, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_TWITTER_UTC = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ({'|'.join(_MONTHS)}) (\d\d) (\d\d):(\d\d):(\d\d) \+0000 (\d{{4}})"
)


def parse_timestamp(value: object) -> datetime | None:
    """Parse the time stamp shapes sources really use: ISO 8601, epoch seconds or milliseconds,
    Twitter's "Tue Oct 31 22:10:47 +0000 2017". Returns None for empty values; raises ValueError
    with the value for anything else, which readers turn into a rejection."""
    from datetime import UTC

    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time stamp: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds since the epoch
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):  # inf, nan, or beyond year 9999
            raise ValueError(f"time stamp out of range: {str(value)[:40]!r}") from None
    if isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return parse_timestamp(float(text))
        twitter = _TWITTER_UTC.fullmatch(text)
        if twitter:
            month, day, hour, minute, second, year = twitter.groups()
            with contextlib.suppress(ValueError):  # 31 June, hour 24: as the general way reads it
                return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        try:  # RFC 2822, as in e-mail Date headers
            from email.utils import parsedate_to_datetime

            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise ValueError(f"unrecognised time stamp {str(value)[:40]!r}")

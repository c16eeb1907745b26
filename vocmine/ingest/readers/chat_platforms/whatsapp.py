"""WhatsApp chat exports: the ``.txt`` that "Export chat" writes (alone, or as ``_chat.txt`` in a zip
with the media). Shape: https://faq.whatsapp.com/1180414079177245 (Android) and
https://faq.whatsapp.com/iphone/chats/how-to-back-up-to-icloud/ (iPhone); the line layouts below are
the ones real exports show, collected from open-source parsers' test files.

One message starts at a line with a date and a time; lines without one continue the message above::

    12/31/20, 9:41 PM - Maria Lopez: My order has not arrived      (Android: "date, time - ")
    [31/12/2020, 21:41:05] Maria Lopez: My order has not arrived   (iPhone: "[date, time] ")
    31.12.20, 21:41 - Acme Support: Sorry to hear that!            (dots, 24 h)
    2020-12-31, 9:41 p. m. - ...   [12.3.2022 klo 14.08.18] ...     (y-m-d, "p. m.", Finnish "klo")

Dates come in the phone's locale: day/month/year, month/day/year or year/month/day, with "/", "." or
"-", two- or four-digit years, 12 h (AM/PM, "a. m."/"p. m.", a narrow no-break space before it on
new iPhones) or 24 h. The day/month order is decided per file from all its dates: a first number
above 12 means day first, a second number above 12 month first; a line whose own numbers decide
overrides the file (exports merged from two phones). When nothing decides, "/" with AM/PM (the US
layout) is month first and everything else day first. Times carry no zone: they are stored as given,
read as UTC, like every time without a zone.

What is read:

* ``Name: text`` lines are messages; lines without a speaker ("Messages and calls are end-to-end
  encrypted…", "X joined using this group's invite link", "You were added") are system turns. On
  iPhones system notices are attributed to the chat and start with U+200E; those are system turns too.
* Media placeholders ("<Media omitted>", "image omitted", "<attached: …>", "IMG-….jpg (file
  attached)") and deleted messages are not turns (there is nothing to analyse); they are counted in
  the conversation's metadata (``media_messages``, ``deleted_messages``).
* Conversations: one export holds a whole chat history, so it is split into conversations where
  24 hours pass without a message (WhatsApp Business's customer-service window is 24 hours). A
  conversation's id is a hash of its first message, so re-exporting the chat later gives its earlier
  conversations the same ids and ingesting it again updates them instead of adding copies.
* Roles: a business account is the agent: the one named in "X is a business account" / "This
  business uses a secure service…" notices, or listed in ``brand_accounts``; a speaker whose name
  matches the agent or customer labels of the settings takes that role; then, when a business is
  known, everyone else is a customer, and otherwise the first speaker of the file is the customer and
  the others agents (exports are usually made by the company's phone from a customer's chat).
* Bad records: text before the first dated line, and dates that do not exist ("31/31/20"), are
  rejected with their line numbers; a conversation with nothing but notices or media is rejected.

Known limits: exports in calendars other than the Gregorian one, or with localised month names, are
not read; the whole file is read at once (up to ``max_record_bytes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, read_whole_text
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import Conversation, SpeakerRole, Turn, conversation_id_from_content

SESSION_GAP = timedelta(hours=24)

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_NO_MARKS = dict.fromkeys(map(ord, _MARKS), None)
_SP = r"[ \t\u00a0\u202f]"
_DATE = r"(?P<d1>\d{1,4})(?P<sep>[./-])" + _SP + r"?(?P<d2>\d{1,2})(?P=sep)" + _SP + r"?(?P<d3>\d{2,4})\.?"
_TIME = r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?\.?"
_AMPM = r"(?P<ampm>[AaPp]\.?" + _SP + r"?[Mm]\.?)"
_STAMP = rf"{_DATE}(?P<comma>,)?{_SP}*(?:(?:klo|um|à|at){_SP}+)?{_TIME}(?:{_SP}*{_AMPM})?"
_BRACKETED = re.compile(rf"^[{_MARKS}]*\[{_STAMP}\]{_SP}*(?P<rest>.*)$")
_DASHED = re.compile(rf"^[{_MARKS}]*{_STAMP}{_SP}*[-–—]{_SP}+(?P<rest>.*)$")
# "Name: text"; a name holds no quotes (system lines quote group subjects, which may hold ": ").
_SPEAKER = re.compile(r"^(?P<name>[^:\"“”\n]{1,80}?):[ \u00a0](?P<text>.*)$", re.DOTALL)
_MEDIA = re.compile(
    r"^(?:<(?:media omitted|médias omis|medien ausgeschlossen|multimedia omitido|mídia oculta|media weggelaten)>"
    r"|(?:image|video|audio|sticker|gif|document|contact card|photo) omitted"
    r"|<attached: [^>]*>|\S.*\.\w{2,5} \((?:file attached|archivo adjunto|datei angehängt)\)|null)$",
    re.IGNORECASE,
)
_DELETED = re.compile(r"^(?:this message was deleted|you deleted this message|deleted message)\.?$", re.IGNORECASE)
_BUSINESS_NOTICE = re.compile(r"business (?:account|uses)|official business", re.IGNORECASE)
_BUSINESS_NAMED = re.compile(r"^(?P<name>.+?) is (?:a|an official) business account", re.IGNORECASE)
# Phrases that only WhatsApp writes, to tell it from a plain "[2024-03-01 12:03] Name:" transcript.
_HINTS = re.compile(
    r"end-to-end encrypted|<Media omitted>|image omitted|joined using this group's invite link"
    r"|created group|security code (?:with|changed)|business account",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- detection


def _match(line: str) -> re.Match[str] | None:
    return _BRACKETED.match(line) or _DASHED.match(line)


def _plain_iso(match: re.Match[str]) -> bool:
    """ "[2024-03-01 12:03]" or "2024-03-01 12:03 -": the core chat-text layout as well."""
    return len(match.group("d1")) == 4 and match.group("sep") == "-" and not match.group("comma")


def detect(sniff: Sniff) -> bool:
    """The first line is a dated WhatsApp line, and so is at least one more (or the only one)."""
    if not sniff.head or sniff.stripped[:1] == b"{":
        return False  # (an iPhone export starts with "[", which ``is_json`` takes for an array)
    lines = [line for line in sniff.text.split("\n")[:60] if line.strip()]
    if not lines or not _match(lines[0].strip("\r")):
        return False
    found = [m for m in (_match(line.strip("\r")) for line in lines) if m]
    if len(found) < min(2, len(lines)):
        return False
    if all(_plain_iso(m) for m in found):
        return bool(_HINTS.search(sniff.text))
    return True


# Media files an "Export chat" zip holds beside the text: Android "IMG-20240314-WA0001.jpg",
# "PTT-20240314-WA0002.opus"; iPhone "00000007-PHOTO-2024-05-02-14-36-25.jpg".
_MEDIA_FILE = re.compile(
    r"(?:^|/)(?:(?:IMG|VID|AUD|PTT|STK|DOC)-\d{8}-WA\d{4}(?:\.\w{1,5})?"
    r"|\d{8}-(?:PHOTO|VIDEO|AUDIO|STICKER|GIF|CONTACT|DOCUMENT)-\d{4}(?:-\d{2}){5}\.\w{1,5})$",
    re.IGNORECASE,
)


def detect_media(sniff: Sniff) -> bool:
    """A media file of a WhatsApp export (recognised by WhatsApp's own file names)."""
    return bool(_MEDIA_FILE.search(sniff.name.replace("!", "/")))


def read_whatsapp_media(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    base = ctx.name.replace("!", "/").rsplit("/", 1)[-1]
    yield Rejection(
        Location(ctx.name, "file"),
        f"WhatsApp media file ({base}) from a chat export, no text; the messages are in the chat's .txt",
    )


# ---------------------------------------------------------------- reading


@dataclass
class _Message:
    line: int
    stamp: re.Match[str]
    lines: list[str]
    when: datetime | None = None
    speaker: str | None = None  # None: a system notice
    text: str = ""


@dataclass
class _Session:
    messages: list[_Message] = field(default_factory=list)


def read_whatsapp(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    text = read_whole_text(stream, ctx, "WhatsApp export", "WhatsApp text export")
    if isinstance(text, Rejection):
        yield text
        return
    messages, preamble = _split_messages(text)
    if preamble is not None:
        yield Rejection(
            Location(ctx.name, f"line {preamble[0]}"),
            f"text before the first dated WhatsApp line: {preamble[1][:60]!r}",
        )
    if not messages:
        if preamble is None:
            yield Rejection(Location(ctx.name, "file"), "no dated WhatsApp message lines found")
        return
    day_first = _day_first(messages)
    good: list[_Message] = []
    for message in messages:
        try:
            message.when = _when(message.stamp, day_first)
        except ValueError as exc:
            yield Rejection(Location(ctx.name, f"line {message.line}"), f"invalid WhatsApp date or time: {exc}")
            continue
        _split_speaker(message)
        good.append(message)
    roles = _Roles(good, ctx)
    for session in _sessions(good):
        yield _conversation(session, roles, ctx)


def _split_messages(text: str) -> tuple[list[_Message], tuple[int, str] | None]:
    """Messages with their continuation lines, and the first non-blank line before the first message."""
    messages: list[_Message] = []
    preamble: tuple[int, str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        match = _match(line)
        if match:
            messages.append(_Message(number, match, [match.group("rest")]))
        elif messages:
            messages[-1].lines.append(line)
        elif line.strip() and preamble is None:
            preamble = (number, line.strip())
    return messages, preamble


def _day_first(messages: list[_Message]) -> bool:
    """The file's day/month order (year-first dates are read by position, whatever this says)."""
    firsts = [int(m.stamp.group("d1")) for m in messages if len(m.stamp.group("d1")) <= 2]
    seconds = [int(m.stamp.group("d2")) for m in messages if len(m.stamp.group("d1")) <= 2]
    if any(n > 12 for n in firsts) and not any(n > 12 for n in seconds):
        return True
    if any(n > 12 for n in seconds) and not any(n > 12 for n in firsts):
        return False
    first = messages[0].stamp
    return not (first.group("sep") == "/" and first.group("ampm"))


def _when(stamp: re.Match[str], day_first: bool) -> datetime:
    d1, d2, d3 = (int(stamp.group(g)) for g in ("d1", "d2", "d3"))
    if len(stamp.group("d1")) == 4:
        year, month, day = d1, d2, d3
    else:
        if d1 > 12 or d2 > 12:  # this line's own numbers decide
            day_first = d1 > 12
        day, month = (d1, d2) if day_first else (d2, d1)
        year = d3 + (2000 if d3 < 70 else 1900) if len(stamp.group("d3")) == 2 else d3
    hour, minute, second = int(stamp.group("h")), int(stamp.group("m")), int(stamp.group("s") or 0)
    marker = (stamp.group("ampm") or "").lower()
    if marker and hour <= 12:  # "13:37:00 p.m." is seen too: a 24 h time with a stray marker
        hour = hour % 12 + (12 if marker.startswith("p") else 0)
    return datetime(year, month, day, hour, minute, second)


def _split_speaker(message: _Message) -> None:
    body = "\n".join(message.lines)
    match = _SPEAKER.match(body)
    if match and not match.group("name").strip().startswith(tuple(_MARKS)):
        message.speaker = match.group("name").strip(_MARKS + " ")
        message.text = match.group("text")
    else:
        message.text = body


def _is_notice(message: _Message) -> bool:
    """iPhones attribute notices (and media) to the chat, with the text starting with U+200E."""
    return message.speaker is None or message.text.startswith("\u200e")


class _Roles:
    """Roles for the whole file, so that each conversation of the export agrees on who is who."""

    def __init__(self, messages: list[_Message], ctx: ReadContext) -> None:
        brands = {b.lower().lstrip("@") for b in ctx.settings.brand_accounts}
        self.business: set[str] = set()
        for message in messages:
            if _is_notice(message) and _BUSINESS_NOTICE.search(message.text):
                named = _BUSINESS_NAMED.match(message.text.strip(_MARKS + " "))
                if named:
                    self.business.add(named.group("name").strip(_MARKS + " ").lower())
                elif message.speaker:
                    self.business.add(message.speaker.lower())
        speakers = [m.speaker for m in messages if m.speaker and not _is_notice(m)]
        self.business |= {s.lower() for s in speakers if s.lower().lstrip("@") in brands}
        self.labels = SpeakerRoles(ctx.settings, "customer")
        self.assigned: dict[str, SpeakerRole] = {}
        for speaker in dict.fromkeys(speakers):
            self.assigned[speaker] = self._decide(speaker)

    def _decide(self, speaker: str) -> SpeakerRole:
        if speaker.lower() in self.business:
            return "agent"
        known = self.labels.known(speaker)
        if known:
            return known
        return "customer" if self.business else self.labels.role(speaker)

    def role(self, speaker: str) -> SpeakerRole:
        return self.assigned.get(speaker, "customer")


def _sessions(messages: list[_Message]) -> Iterator[_Session]:
    session = _Session()
    previous: datetime | None = None
    for message in messages:
        if previous is not None and message.when is not None and message.when - previous > SESSION_GAP:
            yield session
            session = _Session()
        session.messages.append(message)
        previous = message.when or previous
    if session.messages:
        yield session


def _conversation(session: _Session, roles: _Roles, ctx: ReadContext) -> Item:
    location = Location(ctx.name, f"line {session.messages[0].line}")
    turns: list[Turn] = []
    counts = {"media_messages": 0, "deleted_messages": 0}
    for message in session.messages:
        text = clean_text(message.text.translate(_NO_MARKS))
        if _MEDIA.match(text):
            counts["media_messages"] += 1
        elif _DELETED.match(text):
            counts["deleted_messages"] += 1
        elif text and _is_notice(message):
            turns.append(Turn(role="system", text=text, timestamp=message.when))
        elif text and message.speaker:
            turns.append(
                Turn(role=roles.role(message.speaker), speaker=message.speaker, text=text, timestamp=message.when)
            )
    spoken = [t for t in turns if t.role != "system"]
    if not spoken:
        return Rejection(location, "WhatsApp conversation with only system notices or media, no messages")
    customer = next((t.speaker for t in spoken if t.role == "customer"), None)
    agent = next((t.speaker for t in spoken if t.role == "agent"), None)
    return Conversation(
        id=conversation_id_from_content("chat", spoken[:1]),
        channel="chat",
        source="whatsapp",
        customer_id=customer,
        agent_id=agent,
        metadata={
            **{k: v for k, v in counts.items() if v},
            "participants": len({t.speaker for t in spoken}),
        },
        turns=turns,
    ).with_time_bounds()

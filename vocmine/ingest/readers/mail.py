"""E-mail: RFC 822/MIME ``.eml`` files, ``mbox`` mailboxes and JSON exports.

Each message becomes a ``ThreadMessage``; threading (``vocmine.ingest.mail_threads``) assembles
messages into conversations by Message-ID / In-Reply-To / References, with the normalised subject
and customer as the fallback for messages that carry no thread headers.

The body is the text/plain part when there is one, else the HTML part rendered to text. A part whose
declared charset is unknown or wrong is decoded with charset detection (charset-normalizer) instead.
The turn's ``text`` has quoted history and signature removed; ``raw_text`` keeps the whole body.

JSON exports: an array, JSON Lines, or a document ``{"messages": [...]}`` of objects with the
fields ``message_id, in_reply_to, references, from, to, subject, date, text, html`` and optionally
``survey`` (``{"nps": 0-10, "csat": 1-5, "ces": 1-7}``) – the vocmine export shape – or Microsoft
Graph message objects (``internetMessageId, conversationId, from, body``…).
"""

from __future__ import annotations

import contextlib
import email
import email.utils
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import decode_guessing, html_to_text, normalize_text
from vocmine.ingest.inputs.jsonstream import JsonRecord, iter_json_records
from vocmine.ingest.readers.mail_parsing import address_of, addresses_of, content_charset, message_from_bytes
from vocmine.ingest.readers.mail_quotes import strip_quotes_and_signature
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage, parse_timestamp, read_whole
from vocmine.schema import SurveyScores, Turn, stable_hash
from vocmine.settings import Settings

_ENVELOPE = re.compile(rb"^From \S+\s.*\b\d{1,2}:\d{2}(?::\d{2})?\b.*\b\d{4}\b")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_MBOXRD_ESCAPE = re.compile(rb">+From ")
_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit header bytes, as compat32 hands them over
_REPLY_PREFIX = re.compile(r"^\s*((?:re|aw|sv|vs|antw|fw|fwd|wg|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


# ---------------------------------------------------------------- readers


def read_eml(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    data = read_whole(stream, ctx, "message")
    yield data if isinstance(data, Rejection) else _from_bytes(data, Location(ctx.name, "file"), ctx, source="eml")


def read_mbox(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """Stream an mbox: a message starts at an envelope line ("From sender Sun Aug  7 11:40:37 2022")
    at the start of the file or after a blank line; an unescaped "From time to time" in a body is
    not an envelope (mboxo writers leave those). ">From " escapes (mboxrd) are undone. Only one
    message is held in memory at a time."""
    return read_mbox_part(stream, ctx, 0, 0)


def read_mbox_part(stream: BinaryIO, ctx: ReadContext, index: int, offset: int) -> Iterator[Item]:
    """``read_mbox`` of the part of a mailbox that starts with message ``index``, at byte ``offset``
    (a part ``mbox_parts`` found, so that worker processes can read one each): the same items, named
    by the same positions, as reading the whole mailbox gives for those messages."""
    limit = ctx.settings.max_record_bytes
    start = offset
    lines: list[bytes] = []
    size = 0
    oversized = False
    in_message = False
    previous_blank = True
    for line in stream:
        if previous_blank and _ENVELOPE.match(line):
            if in_message:
                yield _mbox_message(lines, oversized, Location(ctx.name, f"message {index} at byte {start}"), ctx)
                index += 1
            lines, size, oversized, start, in_message = [], 0, False, offset, True
        elif not oversized:
            in_message = True  # content before any envelope is still a message, not lost
            if line[:1] == b">" and _MBOXRD_ESCAPE.match(line):
                line = line[1:]
            size += len(line)
            if size > limit:
                oversized, lines = True, []
            else:
                lines.append(line)
        offset += len(line)
        previous_blank = line.strip() == b""
        if ctx.on_progress and index % 200 == 0:
            ctx.on_progress(offset)
    if in_message:
        yield _mbox_message(lines, oversized, Location(ctx.name, f"message {index} at byte {start}"), ctx)
    elif offset == 0:
        yield Rejection(Location(ctx.name, "file"), "empty mbox: no messages")


@dataclass(frozen=True)
class MboxPart:
    index: int  # of its first message in the mailbox
    start: int  # byte where it starts in the file
    end: int
    offset: int  # where read_mbox counts its start (it counts unescaped ">From " lines a byte short)


def mbox_parts(stream: BinaryIO, limit: int, target: int) -> Iterator[MboxPart]:
    """Consecutive parts of a mailbox of about ``target`` bytes each, each starting at an envelope
    line as ``read_mbox`` finds them (``limit``: its ``max_record_bytes``)."""
    start = offset = index = size = 0
    part = MboxPart(0, 0, 0, 0)
    oversized = in_message = False
    previous_blank = True
    for line in stream:
        length = len(line)
        if previous_blank and _ENVELOPE.match(line):
            if in_message:
                index += 1
                if start - part.start >= target:
                    yield MboxPart(part.index, part.start, start, part.offset)
                    part = MboxPart(index, start, 0, offset)
            size, oversized, in_message = 0, False, True
        elif not oversized:
            in_message = True
            if line[:1] == b">" and _MBOXRD_ESCAPE.match(line):
                line = line[1:]
            size += len(line)
            oversized = size > limit
        start += length
        offset += len(line)
        previous_blank = line.strip() == b""
    yield MboxPart(part.index, part.start, start, part.offset)


def _mbox_message(lines: list[bytes], oversized: bool, location: Location, ctx: ReadContext) -> Item:
    if oversized:
        return Rejection(location, f"message larger than the {ctx.settings.max_record_bytes:,}-byte limit")
    data = b"".join(lines)
    if not data.strip():
        return Rejection(location, "empty message")
    return _from_bytes(data, location, ctx, source="mbox")


def read_email_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and isinstance(value.get("messages"), list):
            for i, message in enumerate(value["messages"]):
                location = Location(ctx.name, f"{record.location.position}, messages[{i}]")
                yield _from_json(JsonRecord(message, location), ctx)
        else:
            yield _from_json(record, ctx)


# ---------------------------------------------------------------- MIME


def _from_bytes(data: bytes, location: Location, ctx: ReadContext, *, source: str) -> Item:
    if b":" not in data[:4096]:
        return Rejection(location, "not an e-mail message: no header lines")
    try:
        # compat32 parses lazily and several times faster than policy.default, whose structured
        # header objects we do not need; encoded words are decoded in _header.
        message = message_from_bytes(data)
        headers = _headers(message)
        body = _body_text(message)
    except Exception as exc:  # the email package raises many kinds on hostile input
        return Rejection(location, f"unparseable MIME structure: {type(exc).__name__}: {exc}")
    if not headers["from"] and not headers["message_id"] and not headers["subject"]:
        return Rejection(location, "not an e-mail message: no From, Message-ID or Subject header")
    if not body.strip():
        return Rejection(location, "message has no text body (attachments only or empty)")
    return _thread_message(headers, body, location, ctx.settings, source=source)


def _header(headers: dict[str, Any], name: str) -> str:
    """A header as text: RFC 2047 encoded words decoded, raw 8-bit bytes decoded as UTF-8 or by
    detection, folding removed. A malformed encoded word leaves the raw text rather than failing."""
    value = headers.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):  # an email.header.Header for some malformed input
        value = str(value)
    if not value.isascii() and _SURROGATE.search(value):
        raw = value.encode("ascii", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = decode_guessing(raw)
    if "=?" in value:  # an RFC 2047 encoded word starts so; without one decode_header returns the text as is
        with contextlib.suppress(HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
            value = str(make_header(decode_header(value)))
    return " ".join(value.split())


def _headers(message: Message) -> dict[str, Any]:
    # Each header as message.get(name) gives it (the first of that name), looked up in one pass:
    # every get() scans all of a message's headers.
    first: dict[str, Any] = {}
    for name, value in message.items():
        first.setdefault(name.lower(), value)
    date_text = _header(first, "date")
    try:
        date = email.utils.parsedate_to_datetime(date_text) if date_text else None
    except (TypeError, ValueError):
        date = None
    return {
        "from": address_of(_header(first, "from")).lower() or None,
        "to": [a.lower() for a in addresses_of(_header(first, "to"))],
        "subject": _header(first, "subject") or None,
        "message_id": _first_id(_header(first, "message-id")),
        "in_reply_to": _first_id(_header(first, "in-reply-to")),
        "references": _MESSAGE_ID.findall(_header(first, "references")),
        "date": date,
    }


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.findall(value)
    if found:
        return found[0]
    return value.strip("<> ") or None


def _body_text(message: Message) -> str:
    """The first inline text/plain part, else the first inline text/html part, else any text part."""
    # Each part's type once (every get_content_* call parses the Content-Type header again).
    parts = [(p, p.get_content_type()) for p in message.walk()]
    texts = [(p, kind.split("/", 1)[1]) for p, kind in parts if kind.startswith("text/")]
    inline = [
        (p, sub) for p, sub in texts if not str(p.get("Content-Disposition", "")).lower().startswith("attachment")
    ]
    chosen = next(
        (item for item in inline if item[1] == "plain"),
        next((item for item in inline if item[1] == "html"), texts[0] if texts else None),
    )
    if chosen is None:
        return ""
    part, subtype = chosen
    text = _decode_part(part)
    if subtype == "html":
        text = html_to_text(text)
    return normalize_text(text)


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    charset = content_charset(part) or "us-ascii"
    try:
        text = payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        text = decode_guessing(payload)
    return text


def _from_json(record: JsonRecord, ctx: ReadContext) -> Item:
    value = record.value
    if not isinstance(value, dict):
        return Rejection(record.location, f"expected a message object, found {type(value).__name__}")
    try:
        headers, body = (_graph_fields if "internetMessageId" in value or "conversationId" in value else _plain_fields)(
            value
        )
    except (TypeError, ValueError, AttributeError) as exc:  # pydantic's ValidationError is a ValueError
        return Rejection(record.location, f"malformed message field: {str(exc)[:300]}")
    if not (headers["from"] or headers["message_id"]):
        return Rejection(record.location, "message has neither a sender ('from') nor an id ('message_id')")
    if not body.strip():
        return Rejection(record.location, "message has no text ('text' or 'html')")
    return _thread_message(headers, body, record.location, ctx.settings, source="email-json")


def _address(value: Any) -> str | None:
    if isinstance(value, dict):  # Graph: {"emailAddress": {"address": ..., "name": ...}}
        value = value.get("emailAddress", value).get("address")
    if not value:
        return None
    return address_of(str(value)).lower() or None


def _plain_fields(value: dict[str, Any]) -> tuple[dict[str, Any], str]:
    references = value.get("references") or []
    if isinstance(references, str):
        references = _MESSAGE_ID.findall(references) or references.split()
    to = value.get("to") or []
    headers = {
        "from": _address(value.get("from")),
        "to": [a for a in (_address(x) for x in (to if isinstance(to, list) else [to])) if a],
        "subject": value.get("subject"),
        "message_id": _first_id(str(value.get("message_id") or value.get("id") or "")),
        "in_reply_to": _first_id(str(value.get("in_reply_to") or "")),
        "references": [_first_id(str(r)) for r in references if r],
        "date": parse_timestamp(value.get("date")),
        "survey": SurveyScores(**value["survey"]) if isinstance(value.get("survey"), dict) else None,
    }
    body = value.get("text") or ""
    if not body and value.get("html"):
        body = html_to_text(str(value["html"]))
    return headers, normalize_text(str(body))


def _graph_fields(value: dict[str, Any]) -> tuple[dict[str, Any], str]:
    body = value.get("body") or {}
    content = str(body.get("content") or "")
    if str(body.get("contentType", "")).lower() == "html":
        content = html_to_text(content)
    conversation = value.get("conversationId")
    headers = {
        "from": _address(value.get("from") or value.get("sender")),
        "to": [a for a in (_address(x) for x in value.get("toRecipients") or []) if a],
        "subject": value.get("subject"),
        "message_id": _first_id(str(value.get("internetMessageId") or value.get("id") or "")),
        "in_reply_to": None,
        # Graph gives the thread directly: make the conversation id its root.
        "references": [f"graph-conversation:{conversation}"] if conversation else [],
        "date": parse_timestamp(value.get("sentDateTime") or value.get("receivedDateTime")),
    }
    return headers, normalize_text(content)


# ---------------------------------------------------------------- to a thread message


def is_company_address(address: str | None, settings: Settings) -> bool:
    if not address:
        return False
    address = address.lower()
    domain = address.rsplit("@", 1)[-1]
    addresses, domains = _company(tuple(settings.company_addresses), tuple(settings.company_domains))
    return address in addresses or any(domain == d or domain.endswith("." + d) for d in domains)


@functools.lru_cache(maxsize=8)
def _company(addresses: tuple[str, ...], domains: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The company's addresses and domains as compared, made once, not for every message."""
    return frozenset(a.lower() for a in addresses), frozenset(d.lower().lstrip("@") for d in domains)


def normalize_subject(subject: str | None) -> str:
    return re.sub(r"\s+", " ", _REPLY_PREFIX.sub("", subject or "")).strip().lower()


def _id_key(message_id: str) -> str:
    return "mid-" + stable_hash(message_id.strip().lower())


def _thread_message(
    headers: dict[str, Any], body: str, location: Location, settings: Settings, *, source: str
) -> ThreadMessage:
    sender = headers["from"]
    is_agent = is_company_address(sender, settings)
    # The customer's address: ingest/prepare.py makes it a pseudonym, with every other identifier.
    customer_id = next((a for a in headers["to"] if not is_company_address(a, settings)), None) if is_agent else sender
    # Message-IDs often embed an address or host name, so only their hashes are kept.
    key = (
        _id_key(headers["message_id"])
        if headers["message_id"]
        else "msg-" + stable_hash(str(sender), str(headers["date"]), str(headers["subject"]), body)
    )
    parents = [r for r in headers["references"] if r]
    if headers["in_reply_to"] and headers["in_reply_to"] not in parents:
        parents.append(headers["in_reply_to"])
    parents = [p for p in dict.fromkeys(_id_key(p) for p in parents) if p != key]
    subject = headers["subject"]
    is_reply = bool(subject and _REPLY_PREFIX.match(subject))
    turn = Turn(
        key=key,
        role="agent" if is_agent else "customer",
        # Agents are named by the local part of their work address ("jane.doe"), which keeps
        # per-agent coaching possible; customers only by their pseudonymous id.
        speaker=(sender.split("@", 1)[0] if is_agent and sender else customer_id),
        text=strip_quotes_and_signature(body),
        raw_text=body,
        timestamp=headers["date"],
    )
    return ThreadMessage(
        channel="email",
        source=source,
        key=key,
        parent_keys=parents,
        turn=turn,
        location=location,
        subject=subject,
        # Only replies without thread headers fall back on subject matching; a new message with
        # the same subject as an old one is a new conversation.
        fallback_thread=f"{normalize_subject(subject)}|{customer_id}" if subject else None,
        customer_id=customer_id,
        survey=headers.get("survey"),
        metadata={"is_reply": is_reply},
    )

"""Outlook ``.msg`` files: one e-mail per file, as Outlook saves it ("Save as" › Outlook Message Format
- Unicode) or a drag from Outlook to a folder gives it.

Shape ([MS-OXMSG], https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxmsg):
an OLE compound file (signature ``D0 CF 11 E0 A1 B1 1A E1``, read with ``olefile``) whose root storage
holds one stream per variable-length MAPI property, ``__substg1.0_<tag>`` with ``<tag>`` the property
id and type in hex (``001F`` UTF-16LE text, ``001E`` 8-bit text in the message's code page,
``0102`` binary), a ``__properties_version1.0`` stream of fixed-length properties (times, code pages),
and a ``__recip_version1.0_#<n>`` storage per recipient. Properties read:

==============================  ==========================================================
``0x0037`` subject              ``0x1000`` plain body; ``0x1013`` HTML body
``0x007D`` transport headers    (Message-ID, In-Reply-To, References, From, To, Date)
``0x1035`` / ``0x1042`` /       Internet Message-ID, In-Reply-To and References, for saved
``0x1039``                      messages that never passed SMTP (sent items) and so have no headers
``0x5D01``, ``0x0C1F``,         the sender's SMTP address (an Exchange sender's ``0x0C1F`` is an
``0x0065``, ``0x5D02``          X.500 DN, not an address, so SMTP forms come first), ``0x0C1A`` name
``0x0E04`` display to           recipients' names, when the recipient storages give no address
``0x0039``, ``0x0E06``,         client submit, delivery and creation time (FILETIME), in that
``0x3007``                      order, when the headers carry no Date
``0x3FFD``, ``0x3FDE``          the message's and the HTML body's code pages, for ``001E`` text
``0x001A``                      the message class: contacts, appointments, tasks and delivery
                                reports are not e-mails and are rejected
==============================  ==========================================================

The result is the ``ThreadMessage`` the ``.eml`` reader makes (``mail._thread_message``): the same
roles (company addresses and domains), quoted-reply and signature stripping, threading keys and
subject fallback, so a thread split between .msg and .eml files is assembled into one conversation.
A body held only as compressed RTF (``0x1009``) is not read: such a message is rejected with that
reason. Attachments and embedded messages are not read.
"""

from __future__ import annotations

import codecs
import email
import email.utils
import io
import re
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import decode_guessing, html_to_text, normalize_text
from vocmine.ingest.readers import mail
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, read_whole

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MSG_STREAM_MARK = "__substg1.0_".encode("utf-16-le")

_PT_UNICODE, _PT_STRING8, _PT_BINARY = 0x001F, 0x001E, 0x0102
_PT_LONG, _PT_SYSTIME = 0x0003, 0x0040
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_NOT_EMAIL = ("IPM.Contact", "IPM.DistList", "IPM.Appointment", "IPM.Task", "IPM.StickyNote", "IPM.Activity")
_RECIPIENT_TO = 1
_CODEC_BY_CODE_PAGE = {65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 20127: "ascii", 50220: "iso2022_jp",
                       50221: "iso2022_jp", 50222: "iso2022_jp", 51932: "euc_jp", 20932: "euc_jp", 54936: "gb18030",
                       52936: "hz", 20866: "koi8_r", 21866: "koi8_u", 51949: "euc_kr", 936: "gbk"}  # fmt: skip


def looks_like_msg(head: bytes, suffix: str) -> bool:
    """An OLE compound file that is an Outlook message: named .msg, or with MAPI property streams in
    the directory the head shows (a large file's directory may lie past the head). Word and Excel
    files are OLE compound files too, with neither."""
    if not head.startswith(OLE_SIGNATURE):
        return False
    return suffix == "msg" or MSG_STREAM_MARK in head


def read_msg(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    data = read_whole(stream, ctx, "message")
    if isinstance(data, Rejection):
        yield data
        return
    yield _message(data, Location(ctx.name, "file"), ctx)


def _message(data: bytes, location: Location, ctx: ReadContext) -> Item:
    import olefile  # type: ignore[import-untyped]  # ships no type information

    if not data.startswith(OLE_SIGNATURE):
        return Rejection(location, "not an Outlook .msg file: no OLE compound-file signature")
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            props = _MsgProperties(ole)
            message_class = props.text(0x001A)
            if message_class.startswith(_NOT_EMAIL) or message_class.upper().startswith("REPORT."):
                return Rejection(location, f"not an e-mail: an Outlook item of class {message_class[:60]!r}")
            headers = _headers(props)
            body, no_body = _body(props)
            issues = [str(message) for _, message in ole.parsing_issues]
    except _DamagedMsg as exc:
        return Rejection(location, f"unreadable Outlook .msg file: {exc}")
    except Exception as exc:  # olefile raises many kinds on damaged or hostile compound files
        return Rejection(location, f"unreadable Outlook .msg file: {type(exc).__name__}: {str(exc)[:200]}")
    if not headers["from"] and not headers["message_id"] and not headers["subject"]:
        if issues:  # nothing found because the compound file is broken, not because it is empty
            return Rejection(location, f"unreadable Outlook .msg file: {'; '.join(issues)[:200]}")
        return Rejection(location, "not an e-mail message: no sender, Message-ID or subject")
    if no_body:
        return Rejection(location, no_body)
    return mail._thread_message(headers, body, location, ctx.settings, source="outlook-msg")


class _DamagedMsg(Exception):
    """A compound file whose streams are shorter than its directory says."""


class _MsgProperties:
    """The MAPI properties of a message's root storage (and of its recipients)."""

    def __init__(self, ole: Any, storage: str = "", header_size: int = 32) -> None:
        self.ole = ole
        self.storage = storage
        self.fixed = _fixed_properties(self._read("__properties_version1.0") or b"", header_size)
        self.code_page = _codec(self.fixed.get(0x3FFD)) or _codec(self.fixed.get(0x3FDE)) or "cp1252"

    def _read(self, name: str) -> bytes | None:
        path = f"{self.storage}{name}"
        if not self.ole.exists(path):
            return None
        data: bytes = self.ole.openstream(path).read()
        if len(data) < self.ole.get_size(path):  # olefile returns what there is of a cut stream
            raise _DamagedMsg(f"the file is truncated (property stream {name} is cut short)")
        return data

    def text(self, prop_id: int) -> str:
        """A string property, Unicode or 8-bit, without the terminating NULs writers leave."""
        raw = self._read(f"__substg1.0_{prop_id:04X}{_PT_UNICODE:04X}")
        if raw is not None:
            return raw.decode("utf-16-le", errors="replace").rstrip("\x00")
        raw = self._read(f"__substg1.0_{prop_id:04X}{_PT_STRING8:04X}")
        if raw is None:
            return ""
        return raw.rstrip(b"\x00").decode(self.code_page, errors="replace")

    def binary(self, prop_id: int) -> bytes | None:
        return self._read(f"__substg1.0_{prop_id:04X}{_PT_BINARY:04X}")

    def time(self, prop_id: int) -> datetime | None:
        value = self.fixed.get(prop_id)
        return value if isinstance(value, datetime) else None

    def recipients(self) -> list[tuple[int, str]]:
        """(recipient type, address or display name) of each recipient, in storage order."""
        storages = sorted(
            {entry[0] for entry in self.ole.listdir(streams=True, storages=True) if entry[0].startswith("__recip_")}
        )
        found = []
        for name in storages:
            recipient = _MsgProperties(self.ole, f"{name}/", header_size=8)
            address = recipient.text(0x39FE) or recipient.text(0x3003) or recipient.text(0x3001)
            kind = recipient.fixed.get(0x0C15)
            found.append((kind if isinstance(kind, int) else _RECIPIENT_TO, address))
        return found


def _fixed_properties(data: bytes, header_size: int) -> dict[int, int | datetime]:
    """The fixed-length values of a property stream: 16-byte entries after the header, each the
    property tag (type in the low half), flags, and 8 bytes of value."""
    values: dict[int, int | datetime] = {}
    for offset in range(header_size, len(data) - 15, 16):
        tag, _flags, value = struct.unpack_from("<IIQ", data, offset)
        prop_type, prop_id = tag & 0xFFFF, tag >> 16
        if prop_type == _PT_LONG:
            values[prop_id] = value & 0xFFFFFFFF
        elif prop_type == _PT_SYSTIME and 0 < value < 0x7FFFFFFFFFFFFFFF:
            try:
                values[prop_id] = _FILETIME_EPOCH + timedelta(microseconds=value // 10)
            except OverflowError:
                continue
    return values


def _codec(code_page: Any) -> str | None:
    """A Python codec for a Windows code page number, or None when there is none."""
    if not isinstance(code_page, int) or code_page <= 0:
        return None
    name = _CODEC_BY_CODE_PAGE.get(code_page)
    if name is None and 28591 <= code_page <= 28605:
        name = f"iso8859_{code_page - 28590}"
    name = name or f"cp{code_page}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _headers(props: _MsgProperties) -> dict[str, Any]:
    """The fields ``mail._thread_message`` takes, from the transport headers where the message has
    them and from the MAPI properties otherwise."""
    transport = props.text(0x007D).lstrip()
    if transport and ":" not in transport.split("\n", 1)[0]:
        # Exchange starts some header blocks with "Microsoft Mail Internet Headers Version 2.0".
        transport = transport.split("\n", 1)[-1]
    parsed = mail._headers(email.message_from_string(transport)) if transport.strip() else {}
    # "Sent representing" is who the From header names (a shared mailbox); the sender may be a delegate.
    sender = parsed.get("from") or _smtp(*(props.text(p) for p in (0x5D02, 0x0065, 0x5D01, 0x0C1F)))
    recipients = [address for kind, address in props.recipients() if kind == _RECIPIENT_TO]
    named = email.utils.getaddresses(recipients or [props.text(0x0E04)])
    to = parsed.get("to") or [address.lower() for _, address in named if "@" in address]
    references = parsed.get("references") or re.findall(r"<([^<>\s]+)>", props.text(0x1039))
    date = parsed.get("date") or props.time(0x0039) or props.time(0x0E06) or props.time(0x3007)
    return {
        "from": sender,
        "to": to,
        "subject": " ".join(props.text(0x0037).split()) or parsed.get("subject"),
        "message_id": parsed.get("message_id") or mail._first_id(props.text(0x1035)),
        "in_reply_to": parsed.get("in_reply_to") or mail._first_id(props.text(0x1042)),
        "references": references,
        "date": date,
    }


def _smtp(*candidates: str) -> str | None:
    """The first candidate that is an SMTP address (an Exchange sender may only have an X.500 DN)."""
    for candidate in candidates:
        address = email.utils.parseaddr(candidate)[1]
        if "@" in address:
            return address.lower()
    return None


def _body(props: _MsgProperties) -> tuple[str, str | None]:
    """The body as text, or "" and why there is none."""
    text = props.text(0x1000)
    if not text.strip():
        html = props.text(0x1013) or _decode_html(props)
        text = html_to_text(html) if html.strip() else ""
    text = normalize_text(text)
    if text:
        return text, None
    if props.binary(0x1009):
        return "", "the body is only compressed RTF, which vocmine does not read"
    return "", "message has no text body (attachments only or empty)"


def _decode_html(props: _MsgProperties) -> str:
    raw = props.binary(0x1013)
    if not raw:
        return ""
    codec = _codec(props.fixed.get(0x3FDE))
    if codec:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            pass
    return decode_guessing(raw)

"""Parsing the e-mail reader needs, each with a fast path for the plain forms nearly every message
has and the ``email`` package for everything else:

* a message whose body is one part (``email.message_from_bytes``): its headers are set as the
  library's parser sets them, its body as the payload, without the library's parser walking either
  line by line through its generators;
* the address in a From or To header (``email.utils.parseaddr`` / ``getaddresses``):
  ``jane@example.org``, ``Jane Doe <jane@example.org>``, ``Kim (Northwind) <k@example.org>``,
  lists of those;
* a part's charset (``Message.get_content_charset``): ``text/plain; charset="utf-8"``.

Why not the library alone: its parser hands every body line through a Python generator, and its
address and parameter parsers walk a header a character at a time in Python; together they were about
a quarter of reading a mailbox. The fast paths leave multipart and message/* bodies to the library
whole, and every header value with a character that makes RFC 5322 or RFC 2045/2231 parsing subtle
(quotes, nested comments, escapes, groups, routes, dots or other specials in a display name; parameter
continuations and encodings), so the answers are the library's (tests/unit/ingest/test_mail_parsing.py
compares both on real, generated and hostile messages).
"""

from __future__ import annotations

import email.utils
import io
import re
from email.message import Message
from email.parser import Parser
from email.policy import compat32

# What the library's feed parser takes for a header line (or its continuation).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
_HEADER_PARSER = Parser(policy=compat32)
_LINE_END = re.compile(r"(\r\n|\r|\n)\Z")
# A Content-Type header that names parts or a nested message (folded after the colon, too): such a
# message goes to the library straight away, not after parsing its headers twice.
_NOT_ONE_PART = re.compile(
    r"^content-type:[ \t]*(?:\r\n?|\n)?[ \t]*(?:multipart|message)/", re.IGNORECASE | re.MULTILINE
)


def message_from_bytes(data: bytes) -> Message:
    """``email.message_from_bytes(data)`` (compat32)."""
    text = data.decode("ascii", errors="surrogateescape")  # as BytesParser decodes it
    lines = io.StringIO(text, newline="")  # split where the feed parser splits: \r\n, \r or \n
    header_lines: list[str] = []
    header_end = body_start = 0
    for line in iter(lines.readline, ""):
        if not _HEADER_LINE.match(line):
            # The blank line that ends the headers is dropped; any other line is the body's first.
            body_start = header_end + (len(line) if line[:1] in ("\r", "\n") else 0)
            break
        header_lines.append(line)
        header_end += len(line)
    else:
        body_start = header_end
    if _NOT_ONE_PART.search(text, 0, header_end):
        return email.message_from_bytes(data)  # parts and nested messages: the library's own walk
    message = _plain_headers(header_lines)
    pushed_back: object = ""
    if message is None:  # a header block with something the library notes as a defect: its own parse
        message = _HEADER_PARSER.parsestr(text[:header_end], headersonly=True)
        # What parsing the header block left as body: a "From " line last among the headers, which
        # the library takes for the body's first line.
        pushed_back = message.get_payload()
    if not isinstance(pushed_back, str):  # a headers-only parse leaves text; anything else: the library
        return email.message_from_bytes(data)
    if message.get_content_maintype() in ("multipart", "message"):  # a Content-Type the search missed
        return email.message_from_bytes(data)
    message.set_payload(pushed_back + text[body_start:])
    return message


def _plain_headers(lines: list[str]) -> Message | None:
    """A message with the headers of ``lines`` (the header block, line by line), set as the library's
    feed parser sets them (``set_raw`` of the policy's ``header_source_parse`` of each header's lines,
    an envelope line first as its unix-from), without its line-by-line generator; None for a block
    the library would note a defect in (a continuation first, a header without a name, an envelope
    line after the first), which it parses itself."""
    message = Message(policy=compat32)
    current: list[str] = []
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if not current:
                return None
            current.append(line)
            continue
        if line.startswith("From "):
            if number:
                return None
            message.set_unixfrom(_LINE_END.sub("", line))
            continue
        if line[0] == ":":
            return None
        if current:
            message.set_raw(*compat32.header_source_parse(current))
        current = [line]
    if current:
        message.set_raw(*compat32.header_source_parse(current))
    return message


# An addr-spec of dot-separated atoms: what the library returns unchanged.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# A display name of plain words (letters, digits, hyphens, apostrophes) and comments of such words
# ("Kim Tanaka (Northwind)"), single spaces between them: no other specials.
_WORD = r"(?:[\w'-]+|\([\w' -]*\))"
_PLAIN = re.compile(rf"(?:{_WORD}(?: {_WORD})* )?<(?P<angle>{_ADDR_SPEC})>|(?P<bare>{_ADDR_SPEC})")


def address_of(value: str) -> str:
    """``email.utils.parseaddr(value)[1]``."""
    match = _PLAIN.fullmatch(value)
    if match:
        return match["angle"] or match["bare"]
    return email.utils.parseaddr(value)[1]


def addresses_of(value: str) -> list[str]:
    """The addresses ``email.utils.getaddresses([value])`` finds, empty ones left out."""
    matches = [_PLAIN.fullmatch(piece.strip()) for piece in value.split(",")]
    if all(matches):
        return [m["angle"] or m["bare"] for m in matches if m]
    return [address for _, address in email.utils.getaddresses([value]) if address]


# A Content-Type of simple parameters: tokens or quoted strings without escapes, no RFC 2231 "*".
_SIMPLE_TYPE = re.compile(r'[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w-]+=(?:[\w.:+-]+|"[\w.:+ -]*"))*\s*')
_CHARSET = re.compile(r';\s*charset=(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


def content_charset(part: Message) -> str | None:
    """``part.get_content_charset()``."""
    value = part.get("content-type")
    if value is None:
        return None
    if isinstance(value, str) and _SIMPLE_TYPE.fullmatch(value):
        found = _CHARSET.search(value)
        if found is None:
            return None
        charset = found[1] if found[1] is not None else found[2]
        return charset.lower() if charset.isascii() else None
    return part.get_content_charset()

"""The address in a From or To header: ``email.utils.parseaddr`` / ``getaddresses``, with a regular
expression first for the plain forms nearly every header has (``jane@example.org``,
``Jane Doe <jane@example.org>``, lists of those).

Why not the library alone: its address parser walks the header a character at a time in Python and
was a tenth of reading a mailbox. The fast path only takes values that contain none of the
characters that make RFC 5322 parsing subtle (quotes, comments, escapes, groups, routes, dots or
other specials in a display name); everything else goes to the library, so the answers are the
library's (tests/unit/ingest/test_mail_addresses.py compares both on real and hostile headers).
"""

from __future__ import annotations

import email.utils
import re

# An addr-spec of dot-separated atoms: what the library returns unchanged.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# A display name of plain words (letters, digits, spaces, hyphens, apostrophes): no specials.
_PLAIN = re.compile(rf"(?:(?P<name>[\w'-]+(?: [\w'-]+)*) )?<(?P<angle>{_ADDR_SPEC})>|(?P<bare>{_ADDR_SPEC})")


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

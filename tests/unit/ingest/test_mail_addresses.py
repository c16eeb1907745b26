"""The fast path for From/To addresses answers exactly as email.utils does."""

from __future__ import annotations

import email
import email.utils
import mailbox
from pathlib import Path

import pytest

from vocmine.ingest.readers.mail_addresses import _PLAIN, address_of, addresses_of

DATA = Path(__file__).resolve().parents[2] / "data"

HOSTILE = [
    "",
    "jane@example.org",
    "Jane Doe <jane@example.org>",
    "Jane O'Brien-Smith <jane.o-brien+vip@mail.example.co.uk>",
    "José García <jose@example.es>",
    "Agent 7 <agent7@northwind-telecom.com>",
    '"Doe, Jane" <jane@example.org>',
    "Jane Doe<jane@example.org>",
    "jane@example.org (Jane Doe)",
    "J. Doe <j.doe@example.org>",
    "<jane@example.org>",
    "Jane <jane@example.org>, bob@example.org, Carl Ek <carl@example.se>",
    "jane@example.org,",
    ", jane@example.org",
    "undisclosed-recipients:;",
    "Team: a@example.org, b@example.org;",
    "<@route.example:jane@example.org>",
    "jane..doe@example.org",
    "jane.@example.org",
    ".jane@example.org",
    "jane@example..org",
    "jane@[192.0.2.1]",
    "jane",
    "@example.org",
    "jane@",
    "a@b@c.org",
    "Jane Doe <jane@example.org> extra",
    "Jane  Doe <jane@example.org>",
    'jane"@example.org',
    "jane\\@x@example.org",
    "Jane <jane@example.org",
    "Jane jane@example.org>",
    "=?utf-8?q?Jane?= <jane@example.org>",
    "Jane_Doe <jane_doe@example.org>",
    "ünïcode@example.org",
    "jane@exämple.org",
    "Ｊａｎｅ <jane@example.org>",
]


def _real_headers() -> list[str]:
    """Every From and To header of the sample mail files we ship for the tests."""
    values = []
    for path in sorted((DATA / "email").iterdir()):
        if path.suffix == ".eml":
            messages = [email.message_from_bytes(path.read_bytes())]
        elif path.suffix == ".mbox":
            messages = list(mailbox.mbox(str(path)))
        else:
            continue
        for message in messages:
            values += [" ".join(str(message.get(h, "")).split()) for h in ("From", "To", "Cc")]
    return values


@pytest.mark.parametrize("value", HOSTILE + _real_headers())
def test_the_same_address_as_the_library(value: str) -> None:
    assert address_of(value) == email.utils.parseaddr(value)[1]
    assert addresses_of(value) == [a for _, a in email.utils.getaddresses([value]) if a]


def test_the_fast_path_takes_the_plain_forms_and_leaves_the_rest() -> None:
    for plain in ("jane@example.org", "Jane Doe <jane@example.org>", "José García <jose@example.es>"):
        assert _PLAIN.fullmatch(plain)
    for subtle in ('"Doe, Jane" <jane@example.org>', "jane@example.org (Jane)", "J. Doe <j@example.org>"):
        assert not _PLAIN.fullmatch(subtle)

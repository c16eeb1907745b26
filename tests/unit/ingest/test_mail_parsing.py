"""The fast path for From/To addresses answers exactly as email.utils does."""

from __future__ import annotations

import email
import email.message
import email.utils
import mailbox
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocmine.ingest.readers.mail_parsing import _PLAIN, address_of, addresses_of, content_charset, message_from_bytes

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
    "Tanaka (Northwind) <k.tanaka@northwind-telecom.com>",
    "(Northwind) <k.tanaka@northwind-telecom.com>",
    "Kim (Support, Northwind) <k@example.org>",
    "Kim (Support (EU)) <k@example.org>",
    "Kim (Support <k@example.org>",
    "Kim (Support) <k@example.org> (EU)",
    "Kim () <k@example.org>",
    "Kim (x@y.org) <k@example.org>",
    "k@example.org (Kim)",
    "Kim (Northwind) <k@example.org>, Lee (Northwind) <l@example.org>",
]


def _messages() -> list[email.message.Message]:
    """The sample mail files we ship for the tests."""
    messages: list[email.message.Message] = []
    for path in sorted((DATA / "email").iterdir()):
        if path.suffix == ".eml":
            messages.append(email.message_from_bytes(path.read_bytes()))
        elif path.suffix == ".mbox":
            messages += list(mailbox.mbox(str(path)))
    return messages


def _real_headers() -> list[str]:
    """Every From, To and Cc header of the sample mail."""
    return [" ".join(str(m.get(h, "")).split()) for m in _messages() for h in ("From", "To", "Cc")]


@pytest.mark.parametrize("value", HOSTILE + _real_headers())
def test_the_same_address_as_the_library(value: str) -> None:
    assert address_of(value) == email.utils.parseaddr(value)[1]
    assert addresses_of(value) == [a for _, a in email.utils.getaddresses([value]) if a]


def test_the_fast_path_takes_the_plain_forms_and_leaves_the_rest() -> None:
    for plain in ("jane@example.org", "Jane Doe <jane@example.org>", "Kim (Northwind) <k@example.org>"):
        assert _PLAIN.fullmatch(plain)
    for subtle in ('"Doe, Jane" <jane@example.org>', "jane@example.org (Jane)", "J. Doe <j@example.org>"):
        assert not _PLAIN.fullmatch(subtle)


CONTENT_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    'text/plain; charset="UTF-8"',
    "text/plain;charset=iso-8859-1",
    'text/plain; format=flowed; charset="us-ascii"; delsp=yes',
    "text/html; charset=windows-1252 ",
    "TEXT/PLAIN; CHARSET=UTF-8",
    "text/plain; charset=",
    'text/plain; charset=""',
    "text/plain; charset=utf-8; charset=latin-1",
    "text/plain; charset*=utf-8''%e2%82%ac",
    "text/plain; charset*0=utf; charset*1=-8",
    'text/plain; charset="utf\\"-8"',
    "text/plain; charset=utf-8 (comment)",
    'text/plain; name="a;charset=x"',
    "text/plain charset=utf-8",
    "text/plain; charset=ütf-8",
    'multipart/alternative; boundary="=_abc"',
    "text/plain; charset = utf-8",
    "text",
    "",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_the_same_charset_as_the_library(content_type: str) -> None:
    part = email.message_from_string(f"Content-Type: {content_type}\n\nbody")
    assert content_charset(part) == part.get_content_charset()


def test_the_same_charset_as_the_library_on_every_part_of_the_sample_mail() -> None:
    parts = [part for message in _messages() for part in message.walk()]
    assert len(parts) > 10
    assert [content_charset(p) for p in parts] == [p.get_content_charset() for p in parts]


def test_a_part_without_a_content_type_has_no_charset() -> None:
    part = email.message_from_string("Subject: hi\n\nbody")
    assert content_charset(part) is None is part.get_content_charset()


def _same_message(data: bytes) -> None:
    fast, full = message_from_bytes(data), email.message_from_bytes(data)
    assert fast.items() == full.items()
    assert fast.get_unixfrom() == full.get_unixfrom()
    assert fast.is_multipart() == full.is_multipart()
    assert fast.get_payload() == full.get_payload() or fast.is_multipart()
    assert [p.get_payload(decode=True) for p in fast.walk()] == [p.get_payload(decode=True) for p in full.walk()]


def _sample_mail_bytes() -> list[bytes]:
    found = []
    for path in sorted((DATA / "email").iterdir()):
        if path.suffix == ".eml":
            found.append(path.read_bytes())
        elif path.suffix == ".mbox":
            found += [m.as_bytes() for m in mailbox.mbox(str(path))]
    return found


HOSTILE_MESSAGES = [
    b"",
    b"Subject: hi",
    b"Subject: hi\n",
    b"Subject: hi\n\n",
    b"Subject: hi\r\n\r\nbody\r\nline\r\n",
    b"Subject: hi\rFrom: a@b.org\r\rbody\r",
    b"Subject: hi\nnot a header line\nbody\n",
    b"From someone Sun Aug  7 11:40:37 2022\nSubject: hi\n\nbody\n",
    b"Subject: folded\n continued\n\tand again\n\nbody\n",
    b":\n\nbody",
    b"Subject: hi\n \nbody after a whitespace line\n",
    b"Subject: hi\n\n\n\nbody after blank lines\n",
    b"Subject: 8bit \xe9t\xe9\n\nbody \xff\xfe\n",
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\naMOpbGxv\n",
    b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nh=C3=A9llo=\n world\n",
    b"Content-Type: multipart/alternative; boundary=x\n\n--x\nContent-Type: text/plain\n\nplain\n--x--\n",
    b"Content-Type: multipart/mixed\n\nno boundary\n",
    b"Content-Type:\n multipart/alternative; boundary=x\n\n--x\nContent-Type: text/plain\n\nplain\n--x--\n",
    b"CONTENT-TYPE: Multipart/Alternative; boundary=x\r\n\r\n--x\r\n\r\nplain\r\n--x--\r\n",
    b"X-Note: content-type: multipart/mixed\nContent-Type: text/plain\n\nnot parts\n",
    b"Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n",
    b"Content-Type: multipart\n\nnot really multipart\n",
    b"Content-Type: text/html\n\n<p>hi</p>\n",
    b"Subject: form feed\x0c inside\n\nbody\x0cpage\x0b\x1c\n",
    "Subject: hi\n\nbody \u2028 \x85".encode(),
    b"X-Weird-\x80: value\n\nbody\n",
]


@pytest.mark.parametrize("data", HOSTILE_MESSAGES + _sample_mail_bytes())
def test_the_same_message_as_the_library(data: bytes) -> None:
    _same_message(data)


LINES = st.sampled_from(
    [
        "Subject: hi",
        "From: Kim <k@example.org>",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: multipart/mixed; boundary=b",
        " folded",
        "\tfolded",
        "From x Sun Aug  7 11:40:37 2022",
        "",
        "--b",
        "--b--",
        "body text",
        ": odd",
        "no colon here",
        "caf\udce9",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(LINES, st.sampled_from(["\n", "\r\n", "\r"])), max_size=12), st.booleans())
def test_the_same_message_as_the_library_on_generated_ones(lines: list[tuple[str, str]], cut_last: bool) -> None:
    text = "".join(line + end for line, end in lines)
    if cut_last and lines:
        text = text[: -len(lines[-1][1])]  # no line break at the end
    _same_message(text.encode("ascii", errors="surrogateescape"))

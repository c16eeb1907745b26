"""The redaction patterns are written so that Python's re can search them fast (``redact.py`` says
how); each must find exactly what its plain form finds, at the same places."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocmine.ingest import redact

PLAIN_FORMS = {
    "card": (redact._CARD, re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")),
    "iban": (redact._IBAN, re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")),
    "national_id": (
        redact._NINO,
        re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
    ),
    "handle": (redact._HANDLE, re.compile(r"(?<![\w@])@(\w{1,30})")),
}

# Texts made of what the patterns turn on: digits, capitals (the NI prefixes and IBAN country codes
# among them), word characters and the separators and marks they look at either side.
PIECES = st.sampled_from(
    ["4", "0", "7", "1234", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "AB", "BG", "ZZ", "QQ", "C",
     "123456", "12 34 56", "A", "D", "x", "é", "_", "-", " ", "@", "@@", "a@", "@acme", ".", "\n", "+", "é1"]
)  # fmt: skip
TEXTS = st.lists(PIECES, max_size=14).map("".join)


def _found(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


@pytest.mark.parametrize("kind", sorted(PLAIN_FORMS))
@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(TEXTS, st.text(max_size=40)))
def test_each_pattern_finds_what_its_plain_form_finds(kind: str, text: str) -> None:
    fast, plain = PLAIN_FORMS[kind]
    assert _found(fast, text) == _found(plain, text)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("card", "card 4111 1111 1111 1111 ok", ["4111 1111 1111 1111"]),
        ("card", "id-4111111111111111 x4111111111111111", []),
        ("iban", "IBAN GB82 WEST 1234 5698 7654 32.", ["GB82 WEST 1234 5698 7654 32"]),
        ("iban", "xGB82WEST12345698765432", []),
        ("national_id", "NI AB 12 34 56 C, CE123456D", ["AB 12 34 56 C", "CE123456D"]),
        ("national_id", "BG123456A GB123456A ZZ123456A QQ123456A xAB123456C", []),
        ("handle", "thanks @jane_doe, mail a@b.c or @@x", ["@jane_doe"]),
    ],
)
def test_examples(kind: str, text: str, expected: list[str]) -> None:
    assert [m.group(0) for m in PLAIN_FORMS[kind][0].finditer(text)] == expected

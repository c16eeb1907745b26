"""normalize_text works over the whole text at once; it must equal the plain per-line definition."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from vocmine.ingest.cleaning import normalize_text

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def by_lines(text: str) -> str:
    """The definition: NFC, no zero-width or control characters, each line's runs of whitespace made
    one space and the line stripped, at most one blank line, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)
    lines = [re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Texts made mostly of the characters where the two could differ: every kind of space and line break.
TRICKY = st.text(
    alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u2029\u3000\u200b\ufeff\u00ade\u0301")),
    max_size=40,
)

# ASCII-only texts take their own path (no zero-width characters to remove, a plainer space pattern).
TRICKY_ASCII = st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x1c\x1f\x00\x7f")), max_size=40)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(TRICKY, TRICKY_ASCII, st.text(max_size=60)))
def test_normalize_text_equals_the_per_line_definition(text: str) -> None:
    assert normalize_text(text) == by_lines(text)


def test_examples() -> None:
    assert normalize_text("  Hello \t world  \r\n\r\n\r\n\n  bye \u200b ") == "Hello world\n\nbye"
    assert normalize_text("a \n \n b") == "a\n\nb"

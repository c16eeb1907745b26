"""``html_to_text`` renders a plain paragraph itself (a fast path): exactly as inscriptis renders it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from inscriptis import get_text

from vocmine.ingest import cleaning
from vocmine.ingest.cleaning import html_to_text

# Text of every kind a message holds: Unicode spaces and line separators, zero-width and soft-hyphen
# characters, combining marks, emoji, and what the fast path must leave to inscriptis (<, >, &, controls).
CHARACTERS = st.sampled_from(
    [
        *"aZ09 .,;:'\"!?-_/\\=+*#%$@~`^|()[]{}<>&",
        *["\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u2003", "\u3000", "\u2028", "\u2029"],
        *["\u1680", "\u202f", "\u200b", "\ufeff", "\u00ad", "e\u0301", "日", "\U0001f600", "&amp;", "&#39;"],
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(CHARACTERS, max_size=60).map("".join))
def test_a_plain_paragraph_renders_as_inscriptis_renders_it(inner: str) -> None:
    html = f"<p>{inner}</p>"
    assert html_to_text(html) == get_text(html)


def test_the_fast_path_takes_what_intercom_sends_and_leaves_markup_to_inscriptis() -> None:
    assert cleaning._PLAIN_PARAGRAPH.fullmatch("<p>Hi, the router is down again. Any news?</p>")
    for html in ("<p>Tom &amp; Jerry</p>", "<p>a</p><p>b</p>", "<p>a<br>b</p>", "<P>a</P>", '<p class="x">a</p>'):
        assert cleaning._PLAIN_PARAGRAPH.fullmatch(html) is None
        assert html_to_text(html) == get_text(html)

"""Text normalisation and language identification shared by every channel."""

from __future__ import annotations

import re
import unicodedata

# A pattern, not str.translate: translating by a table looks every character up in a dictionary,
# 17 us on a 433-character accented text against 1.4 us for the pattern's scan (ASCII text has none).
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode category Cc, but newline and tab
# Runs of whitespace other than newlines, but a single plain space: that one is already what the
# run becomes, and replacing it by itself at every word cost more than the rest of the pass.
_SPACES = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
# The same in ASCII text once control characters are gone: its only whitespace then is space, tab
# and newline, and a plain set is tested twice as fast as "not a non-space".
_ASCII_SPACES = re.compile(r"[ \t]{2,}|\t")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_LINE_EDGE = re.compile(r" \n ?|\n ")  # a newline with a space either side (a bare one stays as it is)
_HTML_HINT = re.compile(r"<(?:p|div|br|span|html|body|table|a|b|i|strong|em|ul|li)\b[^>]*>", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text))


# One paragraph of plain text ("<p>Still not fixed.</p>": Intercom sends every message so) renders as
# its words with single spaces and a newline, which inscriptis takes 33 us a message to find and this
# 5 us. Entities, tags and control characters are left to inscriptis.
# tests/unit/ingest/test_html_paragraph.py holds the two to the same text.
_PLAIN_PARAGRAPH = re.compile(r"<p>([^<>&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*)</p>")


def html_to_text(html: str) -> str:
    """Render HTML as the text a reader sees (block layout kept, scripts and styles dropped)."""
    paragraph = _PLAIN_PARAGRAPH.fullmatch(html)
    if paragraph is not None:
        words = " ".join(paragraph.group(1).split())
        return words + "\n" if words else ""
    from inscriptis import get_text

    return get_text(html)


def normalize_text(text: str) -> str:
    """NFC, no zero-width or control characters, single spaces, at most one blank line, trimmed.
    Newlines are kept because turn structure and quote detection depend on them."""
    text = unicodedata.normalize("NFC", text)
    ascii_only = text.isascii()
    if not ascii_only:
        text = _ZERO_WIDTH.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    # Over the whole text, not line by line: after the first substitution a line can only start or
    # end with one space, which the second takes off (every line stripped, as in the per-line form).
    # Each pattern runs only where the plain substring search (in C, many times faster than the
    # pattern's scan) finds what it can match: most texts have no double space, tab, space at a line's
    # edge or three newlines running.
    if not ascii_only:
        text = _SPACES.sub(" ", text)
    elif "  " in text or "\t" in text:
        text = _ASCII_SPACES.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _LINE_EDGE.sub("\n", text)
    if "\n\n\n" in text:
        text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def clean_text(text: str) -> str:
    """Normalise a message body, rendering it first if it is HTML (chat widgets often send HTML)."""
    if looks_like_html(text):
        text = html_to_text(text)
    return normalize_text(text)


def decode_guessing(data: bytes) -> str:
    """Bytes whose declared encoding is missing or wrong, decoded by detection (charset-normalizer);
    undecodable bytes become U+FFFD only when detection finds nothing."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")

"""Customer text → segments: sentences or short turns, with character offsets into the turn.

Sentiment and themes live on segments because one message can praise an agent and complain about
a refund. Rules, in order:

1. a turn is cut at line breaks and after sentence-ending punctuation (. ! ? … and runs of them)
   followed by a space and a capital, digit, quote or emoji-like start; not after common
   abbreviations ("Mr.", "e.g.", "approx.") or inside numbers ("3.5");
2. fragments shorter than ``MIN_WORDS`` words ("Hi,", "Thanks!") are merged into the segment that
   follows them (the last one into the one before);
3. segments longer than ``MAX_WORDS`` words are split at the clause boundary nearest their middle
   ("; ", ", but ", " but ", " and ", ", "), or at the middle word when there is none.

Offsets always satisfy ``turn.text[start:end] == segment.text``, so evidence can be highlighted.
"""

from __future__ import annotations

import re

from vocmine.schema import Conversation, Segment, segment_id

MIN_WORDS = 3
MAX_WORDS = 60
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "no",
    "nr",
    "ref",
    "inc",
    "ltd",
    "co",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9¡¿@#\U0001F300-\U0001FAFF])|\n+")
_WORD = re.compile(r"\S+")
_CLAUSES = ("; ", ", but ", " but ", " and ", ", ")
# Recorded with every analysis: segments (and so every segment value) change when these rules do.
VERSION = "segmenter-1"


def segment_conversation(conversation: Conversation) -> list[Segment]:
    segments = []
    for index, turn in enumerate(conversation.turns):
        if turn.role != "customer" or not turn.text.strip():
            continue
        for start, end in split_text(turn.text):
            segments.append(
                Segment(
                    id=segment_id(conversation.id, index, start),
                    conversation_id=conversation.id,
                    turn_index=index,
                    start=start,
                    end=end,
                    text=turn.text[start:end],
                )
            )
    return segments


def split_text(text: str) -> list[tuple[int, int]]:
    """Character spans of the segments of one turn's text."""
    spans = _merge_short(_sentences(text), text)
    out: list[tuple[int, int]] = []
    for span in spans:
        out.extend(_split_long(span, text))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        cut = match.start()
        if match.group(0).strip() or not _ends_with_abbreviation(text[start:cut]):
            spans.append((start, cut))
            start = match.end()
    spans.append((start, len(text)))
    return [_trim(s, e, text) for s, e in spans if text[s:e].strip()]


def _ends_with_abbreviation(sentence: str) -> bool:
    words = sentence.split()
    if not words:
        return False
    last = words[-1].rstrip(".").lower()
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _trim(start: int, end: int, text: str) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _words(span: tuple[int, int], text: str) -> int:
    return len(_WORD.findall(text[span[0] : span[1]]))


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    carry: int | None = None  # start of short fragments waiting for the next segment
    for start, end in spans:
        if carry is not None:
            start, carry = carry, None
        if _words((start, end), text) < MIN_WORDS:
            carry = start
            continue
        merged.append((start, end))
    if carry is not None:
        if merged:
            merged[-1] = (merged[-1][0], spans[-1][1])
        else:
            merged.append((carry, spans[-1][1]))
    return merged


def _split_long(span: tuple[int, int], text: str) -> list[tuple[int, int]]:
    if _words(span, text) <= MAX_WORDS:
        return [span]
    start, end = span
    piece = text[start:end]
    middle = len(piece) // 2
    cut = None
    for marker in _CLAUSES:
        positions = [m.start() for m in re.finditer(re.escape(marker), piece)]
        if positions:
            best = min(positions, key=lambda p: abs(p - middle))
            if abs(best - middle) < len(piece) // 3:
                cut = best + (1 if marker.startswith((";", ",")) else 0)
                break
    if cut is None:
        words = list(_WORD.finditer(piece))
        cut = words[len(words) // 2].start()
    left, right = _trim(start, start + cut, text), _trim(start + cut, end, text)
    return _split_long(left, text) + _split_long(right, text)

"""Rev.ai transcripts (``GET /speechtotext/v1/jobs/{id}/transcript`` as
``application/vnd.rev.transcript.v1.0+json``).

Shape (https://docs.rev.ai/api/asynchronous/reference/#operation/GetTranscriptById)::

    {"monologues": [{"speaker": 1, "speaker_name": "...",
                     "elements": [{"type": "text", "value": "Hello", "ts": 0.5, "end_ts": 1.5, "confidence": 1},
                                  {"type": "punct", "value": " "},
                                  {"type": "punct", "value": "."}]}]}

A monologue is one speaker's turn; its text is its elements' values joined as given (punctuation
elements carry the spaces). Times are seconds. Files that name the speaker as an object
(``{"id", "name"}``) or give ``terms`` (``{"text", "start", "end", "type": "WORD" | "PUNCTUATION"}``)
instead of elements, as transcript editors built on this shape write them, are read too.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import CallFacts, Piece, build_call, first, label, seconds, text_of, unwrap
from vocmine.ingest.records import Item, Location, ReadContext, Rejection


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    value = unwrap(value, "monologues")
    monologues = value.get("monologues")
    if not isinstance(monologues, list):
        return Rejection(location, "no 'monologues' list: not a Rev.ai transcript")
    pieces = [_monologue(m) for m in monologues if isinstance(m, dict)]
    job_id = first(value, "job_id", "id")
    return build_call(pieces, location, ctx, CallFacts(source="revai", source_id=str(job_id) if job_id else None))


def _monologue(monologue: dict[str, Any]) -> Piece:
    elements = [e for e in monologue.get("elements") or monologue.get("terms") or [] if isinstance(e, dict)]
    text = ""
    for element in elements:
        value = text_of(first(element, "value", "text"))
        kind = str(element.get("type") or "").lower()
        if "terms" in monologue and kind == "word" and text:
            value = " " + value  # terms carry no spacing of their own
        text += value
    starts = [s for e in elements if (s := seconds(first(e, "ts", "start"))) is not None]
    ends = [s for e in elements if (s := seconds(first(e, "end_ts", "end"))) is not None]
    return Piece(
        text,
        seconds(monologue.get("start")) if monologue.get("start") is not None else min(starts, default=None),
        seconds(monologue.get("end")) if monologue.get("end") is not None else max(ends, default=None),
        _speaker(monologue),
    )


def _speaker(monologue: dict[str, Any]) -> str | None:
    speaker = monologue.get("speaker")
    if isinstance(speaker, dict):
        return label(first(speaker, "name", "id"))
    name = monologue.get("speaker_name")
    return label(name) if isinstance(name, str) and name.strip() else label(speaker)

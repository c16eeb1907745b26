"""Speechmatics batch transcripts (``GET /v2/jobs/{id}/transcript``, format ``json-v2``).

Shape (https://docs.speechmatics.com/speech-to-text/batch/output,
https://docs.speechmatics.com/speech-to-text/batch/batch-diarization)::

    {"format": "2.9",
     "job": {"id", "created_at", "data_name", "duration"},
     "metadata": {"created_at", "transcription_config": {"language", "diarization",
                                                         "channel_diarization_labels"}},
     "results": [{"type": "word" | "punctuation" | "entity", "start_time", "end_time",
                  "attaches_to": "previous" | "next" | "both" | "none", "is_eos", "channel",
                  "alternatives": [{"content", "confidence", "language", "speaker": "S1"}]}]}

Speaker diarization labels each word "S1", "S2" ... ("UU": not attributed, joins the voice around
it). Channel diarization gives each word a ``channel``: the labels the job named in
``channel_diarization_labels`` ("Agent", "Caller" decide the role themselves) or "Channel 1",
"Channel 2" (the first channel the agent, see ``channel_role``). Punctuation attaches to its
neighbour as ``attaches_to`` says. ``entity`` results repeat words already given and are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_pieces,
    language_code,
    obj,
    seconds,
    split_on_pauses,
    text_of,
    unwrap,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings

_NUMBERED = re.compile(r"(\d+)\s*$")


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    value = unwrap(value, "results")
    results = value.get("results")
    if not isinstance(results, list):
        return Rejection(location, "no 'results' list: not a Speechmatics transcript")
    job = obj(value.get("job"))
    meta = obj(value.get("metadata"))
    config = obj(meta.get("transcription_config"))
    words = _words([r for r in results if isinstance(r, dict)])
    if any(r.get("channel") for r in results if isinstance(r, dict)):
        pieces = _by_channel(words, config.get("channel_diarization_labels") or [], ctx.settings)
    else:
        pieces = [piece for piece, _ in words]
    facts = CallFacts(
        source="speechmatics",
        source_id=str(job["id"]) if job.get("id") else None,
        language=language_code(config.get("language")),
        metadata={"audio_duration_s": seconds(job.get("duration")), "transcribed_at": meta.get("created_at")},
    )
    return build_call(pieces, location, ctx, facts)


def _words(results: list[dict[str, Any]]) -> list[tuple[Piece, str | None]]:
    """Word and punctuation pieces in order, each with its channel label."""
    words: list[tuple[Piece, str | None]] = []
    glue_next = False
    for result in results:
        kind = result.get("type", "word")
        if kind == "entity" or not result.get("alternatives"):
            continue
        best = result["alternatives"][0]
        speaker = best.get("speaker")
        attaches = result.get("attaches_to") or ("previous" if kind == "punctuation" else "none")
        piece = Piece(
            text_of(best.get("content")),
            seconds(result.get("start_time")),
            seconds(result.get("end_time")),
            None if speaker in (None, "UU") else str(speaker),
            joins=glue_next or attaches in ("previous", "both"),
        )
        glue_next = attaches in ("next", "both")
        channel = result.get("channel")
        words.append((piece, str(channel) if channel is not None else None))
    return words


def _by_channel(words: list[tuple[Piece, str | None]], named: list[Any], settings: Settings) -> list[Piece]:
    """Each channel's words joined into utterances at pauses, with the channel's role."""
    order = [str(n) for n in named]
    channels: dict[str, list[Piece]] = {}
    for piece, channel in words:
        piece.speaker = None  # the channel is the party
        channels.setdefault(channel or "", []).append(piece)
    pieces = []
    for channel, channel_words in channels.items():
        position = _position(channel, order, list(channels))
        pieces += channel_pieces(position, channel, split_on_pauses(channel_words), settings)
    return pieces


def _position(channel: str, named: list[str], seen: list[str]) -> int:
    if channel in named:
        return named.index(channel)
    if match := _NUMBERED.search(channel):
        return max(0, int(match.group(1)) - 1)  # "Channel 1", "channel_1": counted from 1
    return seen.index(channel)

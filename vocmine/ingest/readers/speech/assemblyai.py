"""AssemblyAI transcripts (``GET /v2/transcript/{id}``, the SDKs' ``json_response``).

Shape (https://www.assemblyai.com/docs/api-reference/transcripts/get,
https://www.assemblyai.com/docs/speech-to-text/speaker-diarization,
https://www.assemblyai.com/docs/pre-recorded-audio/multichannel-transcription)::

    {"id", "status": "completed", "error", "text", "language_code", "audio_duration", "confidence",
     "speaker_labels", "multichannel", "audio_channels", "dual_channel",
     "words": [{"text", "start", "end", "confidence", "speaker", "channel"}],
     "utterances": [{"speaker": "A", "text", "start", "end", "confidence", "channel", "words"}],
     "sentiment_analysis_results": [{"text", "sentiment", "speaker", ...}], "summary"}

Times are milliseconds. Turns come from ``utterances``, else from the speaker-labelled ``words``,
else ``text`` is one unlabelled turn. With multichannel audio each utterance carries its channel
("1", "2", ...), which decides the role (the first channel the agent, see ``channel_role``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_role,
    label,
    language_code,
    scaled,
    seconds,
    text_of,
    unwrap,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    value = unwrap(value, "text")
    status = value.get("status")
    if status not in (None, "completed"):
        detail = f": {value['error']}" if value.get("error") else ""
        return Rejection(location, f"AssemblyAI transcript is {status!r}, not 'completed'{detail}")
    multichannel = bool(value.get("multichannel") or value.get("dual_channel")) or _number(value, "audio_channels") > 1
    utterances = [u for u in value.get("utterances") or [] if isinstance(u, dict)]
    words = [w for w in value.get("words") or [] if isinstance(w, dict)]
    if utterances:
        pieces = [_piece(u, multichannel, ctx.settings) for u in utterances]
    elif words and any(w.get("speaker") is not None or w.get("channel") is not None for w in words):
        pieces = [_piece(w, multichannel, ctx.settings) for w in words]
    else:
        pieces = [_whole(value, words)]
    facts = CallFacts(
        source="assemblyai",
        source_id=str(value["id"]) if value.get("id") else None,
        language=language_code(value.get("language_code")),
        metadata={
            "audio_duration_s": seconds(value.get("audio_duration")),
            "asr_confidence": value.get("confidence"),
            "asr_sentiment_counts": _sentiments(value.get("sentiment_analysis_results")),
            "summary": value.get("summary") if isinstance(value.get("summary"), str) else None,
        },
    )
    return build_call(pieces, location, ctx, facts)


def _number(value: dict[str, Any], key: str) -> int:
    try:
        return int(value.get(key) or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _piece(part: dict[str, Any], multichannel: bool, settings: Settings) -> Piece:
    piece = Piece(text_of(part.get("text")), scaled(part.get("start"), 1000), scaled(part.get("end"), 1000))
    channel = part.get("channel")
    if multichannel and channel is None and str(part.get("speaker") or "").isdigit():
        channel = part["speaker"]  # dual-channel transcripts name the channel as the speaker
    if multichannel and channel is not None:
        position = int(channel) - 1  # AssemblyAI counts channels from 1
        piece.speaker, piece.role = f"channel_{position}", channel_role(position, settings)
    else:
        piece.speaker = label(part.get("speaker"))
    return piece


def _whole(value: dict[str, Any], words: list[dict[str, Any]]) -> Piece:
    text = text_of(value.get("text")) or " ".join(text_of(w.get("text")) for w in words)
    start = scaled(words[0].get("start"), 1000) if words else None
    end = scaled(words[-1].get("end"), 1000) if words else None
    return Piece(text, start, end)


def _sentiments(results: object) -> dict[str, Any] | None:
    if not isinstance(results, list) or not results:
        return None
    counts = Counter(str(r.get("sentiment")).lower() for r in results if isinstance(r, dict) and r.get("sentiment"))
    return dict(counts) or None

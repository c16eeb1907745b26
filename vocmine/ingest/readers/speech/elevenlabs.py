"""ElevenLabs Speech to Text (Scribe) responses.

Shape (https://elevenlabs.io/docs/api-reference/speech-to-text/convert)::

    {"language_code": "eng", "language_probability": 0.98, "text", "transcription_id",
     "words": [{"text": "Hello", "start": 0.12, "end": 0.48, "type": "word", "speaker_id": "speaker_0",
                "logprob": -0.1},
               {"text": " ", "type": "spacing", ...}, {"text": "(laughs)", "type": "audio_event", ...}]}

and, with ``use_multi_channel``, ``{"transcripts": [{... "channel_index": 0, "words": [...]}],
"transcription_id"}``: one transcript a channel, the first channel the agent (see ``channel_role``).
Words of one ``speaker_id`` in a row make a turn; ``spacing`` tokens carry the spaces between
words; ``audio_event`` tokens (laughter, music) are not speech and are skipped. Times are seconds.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_pieces,
    label,
    language_code,
    seconds,
    split_on_pauses,
    text_of,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    transcripts = value.get("transcripts")
    if isinstance(transcripts, list):
        pieces: list[Piece] = []
        for transcript in (t for t in transcripts if isinstance(t, dict)):
            position = int(transcript.get("channel_index") or 0)
            words = split_on_pauses(_words(transcript, diarized=False))
            pieces += channel_pieces(position, f"channel_{position}", words, ctx.settings)
        first = next((t for t in transcripts if isinstance(t, dict)), {})
    elif isinstance(value.get("words"), list) or isinstance(value.get("text"), str):
        pieces = _words(value, diarized=True) or [Piece(text_of(value.get("text")))]
        first = value
    else:
        return Rejection(location, "no 'words', 'text' or 'transcripts': not an ElevenLabs transcription")
    transcription_id = value.get("transcription_id")
    facts = CallFacts(
        source="elevenlabs",
        source_id=str(transcription_id) if transcription_id else None,
        language=language_code(first.get("language_code")),
    )
    return build_call(pieces, location, ctx, facts)


def _words(transcript: dict[str, Any], diarized: bool) -> list[Piece]:
    pieces: list[Piece] = []
    space_before = False
    for word in transcript.get("words") or []:
        if not isinstance(word, dict) or word.get("type") == "audio_event":
            continue
        if word.get("type") == "spacing":
            space_before = True
            continue
        speaker = label(word.get("speaker_id")) if diarized else None
        joins = bool(pieces) and not space_before and pieces[-1].speaker == speaker
        pieces.append(
            Piece(text_of(word.get("text")), seconds(word.get("start")), seconds(word.get("end")), speaker, joins=joins)
        )
        space_before = False
    return pieces

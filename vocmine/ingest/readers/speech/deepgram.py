"""Deepgram pre-recorded (``POST /v1/listen``) responses, Deepgram's Whisper models included.

Shape (https://developers.deepgram.com/reference/speech-to-text-api/listen,
https://developers.deepgram.com/docs/utterances, .../docs/diarization, .../docs/multichannel)::

    {"metadata": {"request_id", "created", "duration", "channels", "models", "model_info": {id: {"name"}}},
     "results": {"channels": [{"alternatives": [{"transcript", "confidence",
                                                 "words": [{"word", "start", "end", "confidence",
                                                            "speaker", "punctuated_word"}],
                                                 "paragraphs": {"paragraphs": [{"speaker", "sentences"}]}}],
                               "detected_language"}],
                 "utterances": [{"start", "end", "channel", "speaker", "transcript", "words"}],
                 "summary": {"short"}, "sentiments": {"average": {"sentiment"}}}}

Turns come from ``utterances`` when present, else from the speaker-labelled ``words`` (consecutive
words of one speaker), else from the channels of a multichannel response (one party a channel),
else from the sentences or the transcript. Times are seconds.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_pieces,
    channel_role,
    label,
    language_code,
    obj,
    seconds,
    split_on_pauses,
    text_of,
    unwrap,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    value = unwrap(value, "results")
    results = value.get("results")
    if not isinstance(results, dict):
        return Rejection(location, "no 'results' object: not a Deepgram pre-recorded response")
    meta = obj(value.get("metadata"))
    channels = [c for c in results.get("channels") or [] if isinstance(c, dict)]
    multichannel = len(channels) > 1  # metadata.channels counts the audio's channels, not the response's
    if results.get("utterances"):
        pieces = _from_utterances(results["utterances"], multichannel, ctx.settings)
    elif multichannel:
        pieces = [p for i, c in enumerate(channels) for p in _channel(i, _best(c), ctx.settings)]
    else:
        pieces = _single_channel(_best(channels[0])) if channels else []
    request_id = meta.get("request_id")
    facts = CallFacts(
        source="deepgram",
        source_id=str(request_id) if request_id else None,
        language=language_code(channels[0].get("detected_language")) if channels else None,
        metadata=_metadata(meta, results),
    )
    return build_call(pieces, location, ctx, facts)


def _best(channel: dict[str, Any]) -> dict[str, Any]:
    alternatives = channel.get("alternatives") or [{}]
    return obj(alternatives[0])


def _word(word: dict[str, Any]) -> Piece:
    return Piece(
        text_of(word.get("punctuated_word") or word.get("word")),
        seconds(word.get("start")),
        seconds(word.get("end")),
        label(word.get("speaker")),
    )


def _from_utterances(utterances: list[dict[str, Any]], multichannel: bool, settings: Settings) -> list[Piece]:
    pieces = []
    for utterance in utterances:
        text = text_of(utterance.get("transcript")) or " ".join(_word(w).text for w in utterance.get("words") or [])
        piece = Piece(text, seconds(utterance.get("start")), seconds(utterance.get("end")))
        if multichannel:
            position = int(utterance.get("channel") or 0)
            piece.speaker, piece.role = f"channel_{position}", channel_role(position, settings)
        else:
            piece.speaker = label(utterance.get("speaker"))
        pieces.append(piece)
    return pieces


def _single_channel(alternative: dict[str, Any]) -> list[Piece]:
    words = [_word(w) for w in alternative.get("words") or []]
    if any(w.speaker is not None for w in words):
        return words  # diarized: consecutive words of one speaker become a turn
    return _unlabelled(alternative, words)


def _channel(position: int, alternative: dict[str, Any], settings: Settings) -> list[Piece]:
    words = [_word(w) for w in alternative.get("words") or []]
    for word in words:
        word.speaker = None  # the channel is the party; diarization inside it is not needed
    return channel_pieces(position, f"channel_{position}", _unlabelled(alternative, words), settings)


def _unlabelled(alternative: dict[str, Any], words: list[Piece]) -> list[Piece]:
    """Sentences when the response has paragraphs, else words joined at pauses, else the
    transcript as one piece."""
    paragraphs = (alternative.get("paragraphs") or {}).get("paragraphs") or []
    sentences = [
        Piece(text_of(s.get("text")), seconds(s.get("start")), seconds(s.get("end")))
        for paragraph in paragraphs
        for s in paragraph.get("sentences") or []
    ]
    if sentences:
        return sentences
    if words:
        return split_on_pauses(words)
    text = text_of(alternative.get("transcript"))
    return [Piece(text)] if text else []


def _metadata(meta: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    models = [m.get("name") for m in (meta.get("model_info") or {}).values() if isinstance(m, dict)]
    summary = obj(results.get("summary"))
    sentiments = obj(results.get("sentiments"))
    average = obj(sentiments.get("average"))
    return {
        "asr_models": [m for m in models if m] or None,
        "audio_duration_s": seconds(meta.get("duration")),
        "transcribed_at": meta.get("created"),
        "summary": summary.get("short"),
        "asr_sentiment": average.get("sentiment"),
    }

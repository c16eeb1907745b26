"""Azure AI Speech transcriptions: batch transcription result files and fast transcription responses.

Shapes:

* batch transcription (the ``contenturl`` of a file of kind ``Transcription``;
  https://learn.microsoft.com/azure/ai-services/speech-service/batch-transcription-get)::

      {"source", "timestamp", "durationInTicks", "duration": "PT2.58S",
       "combinedRecognizedPhrases": [{"channel", "lexical", "itn", "maskedITN", "display"}],
       "recognizedPhrases": [{"recognitionStatus": "Success", "channel": 0, "speaker": 1,
                              "offset": "PT0.07S", "duration": "PT1.59S",
                              "offsetInTicks": 700000.0, "durationInTicks": 15900000.0,
                              "nBest": [{"confidence", "lexical", "itn", "maskedITN", "display"}]}]}

* fast transcription (``POST /speechtotext/transcriptions:transcribe``;
  https://learn.microsoft.com/azure/ai-services/speech-service/fast-transcription-create)::

      {"durationMilliseconds", "combinedPhrases": [{"channel", "text"}],
       "phrases": [{"channel", "speaker", "offsetMilliseconds", "durationMilliseconds", "text",
                    "locale", "confidence", "words"}]}

A phrase's ``speaker`` (diarization, mono audio) is the voice; without it, the ``channel`` of a
stereo recording (from 0) is the party, the first channel the agent (see ``channel_role``).
Ticks are 100 ns. Phrases whose ``recognitionStatus`` is not "Success" hold no text and are skipped.
The ``source`` URL is not kept: it may carry a storage access token.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_role,
    first,
    label,
    language_code,
    scaled,
    seconds,
    text_of,
    until,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings

TICKS = 10_000_000


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    if isinstance(value.get("recognizedPhrases"), list):
        phrases = [_batch_phrase(p) for p in value["recognizedPhrases"] if _succeeded(p)]
        duration = scaled(value.get("durationInTicks"), TICKS) or seconds(value.get("duration"))
    elif isinstance(value.get("phrases"), list):
        phrases = [_fast_phrase(p) for p in value["phrases"] if isinstance(p, dict)]
        duration = scaled(value.get("durationMilliseconds"), 1000)
    else:
        return Rejection(location, "no 'recognizedPhrases' or 'phrases' list: not an Azure transcription")
    locales = [locale for _, _, _, locale in phrases if locale]
    facts = CallFacts(
        source="azure-stt",
        language=language_code(locales[0]) if locales else None,
        metadata={"audio_duration_s": duration, "transcribed_at": value.get("timestamp")},
    )
    return build_call(_pieces(phrases, ctx.settings), location, ctx, facts)


Phrase = tuple[Piece, Any, Any, str | None]  # the piece, its speaker, its channel, its locale


def _succeeded(phrase: object) -> bool:
    return isinstance(phrase, dict) and phrase.get("recognitionStatus", "Success") == "Success"


def _batch_phrase(phrase: dict[str, Any]) -> Phrase:
    best = (phrase.get("nBest") or [{}])[0]
    start = scaled(phrase.get("offsetInTicks"), TICKS)
    if start is None:
        start = seconds(phrase.get("offset"))
    length = scaled(phrase.get("durationInTicks"), TICKS)
    if length is None:
        length = seconds(phrase.get("duration"))
    text = text_of(first(best, "display", "itn", "lexical"))
    piece = Piece(text, start, until(start, length))
    return piece, phrase.get("speaker"), phrase.get("channel"), phrase.get("locale")


def _fast_phrase(phrase: dict[str, Any]) -> Phrase:
    start = scaled(phrase.get("offsetMilliseconds"), 1000)
    length = scaled(phrase.get("durationMilliseconds"), 1000)
    piece = Piece(text_of(phrase.get("text")), start, until(start, length))
    return piece, phrase.get("speaker"), phrase.get("channel"), phrase.get("locale")


def _pieces(phrases: list[Phrase], settings: Settings) -> list[Piece]:
    diarized = any(speaker is not None for _, speaker, _, _ in phrases)
    channels = {int(channel) for _, _, channel, _ in phrases if channel is not None}
    for piece, speaker, channel, _ in phrases:
        if diarized:
            piece.speaker = label(speaker)
        elif len(channels) > 1 and channel is not None:
            position = int(channel)  # Azure counts channels from 0
            piece.speaker, piece.role = f"channel_{position}", channel_role(position, settings)
    return [piece for piece, _, _, _ in phrases]

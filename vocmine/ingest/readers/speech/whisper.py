"""Whisper transcripts without speakers: OpenAI's ``verbose_json`` and the ``whisper`` command's JSON,
and whisper.cpp's JSON output.

Shapes:

* OpenAI ``POST /v1/audio/transcriptions`` with ``response_format=verbose_json``
  (https://platform.openai.com/docs/api-reference/audio/verbose-json-object) and
  ``whisper --output_format json`` (https://github.com/openai/whisper)::

      {"task": "transcribe", "language": "english", "duration", "text",
       "segments": [{"id", "seek", "start", "end", "text", "tokens", "temperature",
                     "avg_logprob", "compression_ratio", "no_speech_prob"}],
       "words": [{"word", "start", "end"}]}

* the Hugging Face ``automatic-speech-recognition`` pipeline with ``return_timestamps=True``
  (https://huggingface.co/docs/transformers/main_classes/pipelines) and insanely-fast-whisper, which
  adds ``speakers`` when it diarizes::

      {"text", "chunks": [{"timestamp": [0.0, 5.44], "text"}],
       "speakers": [{"speaker": "SPEAKER_00", "timestamp": [0.0, 5.44], "text"}]}

* whisper.cpp ``--output-json`` (https://github.com/ggerganov/whisper.cpp, ``examples/cli``)::

      {"systeminfo", "model": {...}, "params": {...}, "result": {"language": "en"},
       "transcription": [{"timestamps": {"from": "00:00:00,000", "to": "00:00:03,000"},
                          "offsets": {"from": 0, "to": 3000}, "text", "speaker_turn_next"}]}

Whisper does not tell speakers apart: a call from it is one unlabelled voice (kept as the customer,
``speakers_unlabelled``), unless segments carry a ``speaker`` (insanely-fast-whisper's
``speakers``) or whisper.cpp's tinydiarize marks speaker turns (``speaker_turn_next``), which
alternate two voices. Diarized Whisper output
(WhisperX, ``segments`` with ``speaker``) is read by the core ``call-json`` format.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    first,
    label,
    language_code,
    obj,
    scaled,
    seconds,
    text_of,
    unwrap,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    if not isinstance(value.get("transcription"), list):
        value = unwrap(value, "segments")
    if isinstance(value.get("transcription"), list):
        return _whisper_cpp(value, location, ctx)
    if isinstance(value.get("chunks"), list):
        return _chunks(value, location, ctx)
    segments = [s for s in value.get("segments") or [] if isinstance(s, dict)]
    if segments:
        pieces = [
            Piece(text_of(s.get("text")), seconds(s.get("start")), seconds(s.get("end")), label(s.get("speaker")))
            for s in segments
        ]
    elif value.get("text") or value.get("words"):
        words = [w for w in value.get("words") or [] if isinstance(w, dict)]
        text = text_of(value.get("text")) or " ".join(text_of(w.get("word")) for w in words)
        start = seconds(words[0].get("start")) if words else None
        pieces = [Piece(text, start, seconds(words[-1].get("end")) if words else None)]
    else:
        return Rejection(location, "no 'segments' or 'text': not a Whisper transcript")
    facts = CallFacts(
        source="whisper",
        language=language_code(value.get("language")),
        metadata={"audio_duration_s": seconds(value.get("duration"))},
    )
    return build_call(pieces, location, ctx, facts)


def _chunks(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    """Hugging Face pipeline output: ``chunks`` of ``timestamp`` [start, end] and ``text``, with the
    ``speakers`` list insanely-fast-whisper adds when it diarizes."""
    speakers = [s for s in value.get("speakers") or [] if isinstance(s, dict)]
    parts = speakers or [c for c in value["chunks"] if isinstance(c, dict)]
    pieces = []
    for part in parts:
        stamp = part.get("timestamp")
        start, end = (seconds(t) for t in [*(stamp if isinstance(stamp, list) else []), None, None][:2])
        pieces.append(Piece(text_of(part.get("text")), start, end, label(part.get("speaker"))))
    facts = CallFacts(source="whisper", language=language_code(value.get("language")))
    return build_call(pieces, location, ctx, facts)


def _whisper_cpp(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    segments = [s for s in value["transcription"] if isinstance(s, dict)]
    turns_marked = any("speaker_turn_next" in s for s in segments)
    voice = 0
    pieces = []
    for segment in segments:
        offsets = obj(segment.get("offsets"))
        stamps = obj(segment.get("timestamps"))
        start = scaled(offsets.get("from"), 1000) if offsets.get("from") is not None else seconds(stamps.get("from"))
        end = scaled(offsets.get("to"), 1000) if offsets.get("to") is not None else seconds(stamps.get("to"))
        pieces.append(Piece(text_of(segment.get("text")), start, end, f"speaker_{voice}" if turns_marked else None))
        if segment.get("speaker_turn_next"):
            voice = 1 - voice
    result = obj(value.get("result"))
    params = obj(value.get("params"))
    model = obj(value.get("model"))
    facts = CallFacts(
        source="whisper-cpp",
        language=language_code(first(result, "language") or params.get("language")),
        metadata={"asr_models": [str(model["type"])] if model.get("type") else None},
    )
    return build_call(pieces, location, ctx, facts)

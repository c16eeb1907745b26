"""Google Cloud Speech-to-Text results, v1 and v2, as the REST API and the client libraries give them.

Shapes:

* v1 ``speech:recognize`` / ``longrunningrecognize`` responses
  (https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize,
  https://cloud.google.com/speech-to-text/docs/multiple-voices)::

      {"results": [{"alternatives": [{"transcript", "confidence",
                                      "words": [{"startTime": "1.300s", "endTime", "word", "speakerTag": 1}]}],
                    "channelTag", "resultEndTime", "languageCode"}],
       "totalBilledTime", "requestId"}

  and the long-running operation that wraps it
  (``{"name", "metadata", "done", "response": {"@type": ..., "results": [...]}}``);
* v2 ``recognize`` / ``batchRecognize`` results
  (https://cloud.google.com/speech-to-text/v2/docs/reference/rest/v2/projects.locations.recognizers/recognize):
  ``resultEndOffset``, words with ``startOffset``/``endOffset`` and ``speakerLabel``; a batch
  response maps each audio URI to ``{"transcript": {"results": [...]}}`` or ``{"inlineResult": ...}``;
* the client libraries' ``to_dict`` output, which spells the same fields in snake_case
  (``start_time``, ``speaker_tag``, ``result_end_time``), and times as "1.300s", numbers or
  ``{"seconds", "nanos"}``.

With diarization on, v1 repeats every word so far, with its speaker tag, in the last result: that
result alone gives the turns. Without diarization, a multichannel result's ``channelTag`` (from 1)
is the party; otherwise each result is one unlabelled piece.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_pieces,
    first,
    label,
    language_code,
    obj,
    seconds,
    text_of,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.settings import Settings


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item | list[Item]:
    operation_name = None
    if isinstance(value.get("response"), dict):  # a long-running operation
        if value.get("error"):
            return Rejection(location, f"Google operation failed: {value['error']}")
        operation_name = value.get("name")
        value = value["response"]
    results = value.get("results")
    if isinstance(results, dict):  # v2 batchRecognize: one entry per audio file
        return [_batch_file(uri, entry, location, ctx) for uri, entry in results.items()]
    if not isinstance(results, list):
        return Rejection(location, "no 'results' list: not a Google Speech-to-Text response")
    metadata = obj(value.get("metadata"))
    source_id = operation_name or first(value, "requestId", "request_id") or first(metadata, "requestId", "request_id")
    return _call(results, location, ctx, str(source_id).rsplit("/", 1)[-1] if source_id else None)


def _batch_file(uri: str, entry: object, location: Location, ctx: ReadContext) -> Item:
    where = Location(location.file, f"{location.position}, {uri}")
    if not isinstance(entry, dict):
        return Rejection(where, "not a batchRecognize file result")
    if entry.get("error"):
        return Rejection(where, f"Google could not transcribe this file: {entry['error']}")
    holder = first(entry, "inlineResult", "inline_result") or entry
    transcript = holder.get("transcript") if isinstance(holder, dict) else None
    if not isinstance(transcript, dict) or not isinstance(transcript.get("results"), list):
        return Rejection(where, "the file result holds no transcript (it was written to Cloud Storage?)")
    return _call(transcript["results"], where, ctx, None)


def _call(results: list[Any], location: Location, ctx: ReadContext, source_id: str | None) -> Item:
    results = [r for r in results if isinstance(r, dict) and r.get("alternatives")]
    language = next((language_code(first(r, "languageCode", "language_code")) for r in results), None)
    facts = CallFacts(source="google-stt", source_id=source_id, language=language)
    return build_call(_pieces(results, ctx.settings), location, ctx, facts)


def _best(result: dict[str, Any]) -> dict[str, Any]:
    alternative = result["alternatives"][0]
    return obj(alternative)


def _speaker(word: dict[str, Any]) -> str | None:
    tag = first(word, "speakerLabel", "speaker_label")
    if tag in (None, ""):
        tag = first(word, "speakerTag", "speaker_tag")
        tag = None if tag in (0, "0") else tag  # 0: "not set" in protobuf
    return label(tag)


def _words(result: dict[str, Any]) -> list[Piece]:
    return [
        Piece(
            text_of(w.get("word")),
            seconds(first(w, "startTime", "start_time", "startOffset", "start_offset")),
            seconds(first(w, "endTime", "end_time", "endOffset", "end_offset")),
            _speaker(w),
        )
        for w in _best(result).get("words") or []
        if isinstance(w, dict)
    ]


def _pieces(results: list[dict[str, Any]], settings: Settings) -> list[Piece]:
    words = [_words(r) for r in results]
    tagged = [w for w in words if any(p.speaker for p in w)]
    if tagged:
        return tagged[-1] if _cumulative(tagged[-1], words) else [p for w in tagged for p in w]
    channels = {_channel(r) for r in results}
    pieces = []
    for result, result_words in zip(results, words, strict=True):
        channel = _channel(result)
        # Without word offsets a result's start is unknown: its end is where the result ends.
        start = result_words[0].start if result_words else None
        end = seconds(first(result, "resultEndTime", "result_end_time", "resultEndOffset", "result_end_offset"))
        piece = Piece(text_of(_best(result).get("transcript")), start, end)
        pieces += channel_pieces(channel, f"channel_{channel}", [piece], settings) if len(channels) > 1 else [piece]
    return pieces


def _channel(result: dict[str, Any]) -> int:
    tag = first(result, "channelTag", "channel_tag")
    return max(0, int(tag) - 1) if tag not in (None, "") else 0  # Google counts channels from 1


def _cumulative(last: list[Piece], words: list[list[Piece]]) -> bool:
    """Whether the last diarized result repeats the words of all results before it (v1 does; v2
    gives each result its own words)."""
    others = [p for w in words if w is not last for p in w]
    if not others:
        return True
    if len(last) < len(others):
        return False
    if last[0].start is not None and others[0].start is not None:
        return last[0].start <= others[0].start + 0.01
    return last[0].text == others[0].text

"""Calls: ASR output with speaker labels and timings, and caption files.

Formats:

* vocmine JSON with ``start_s``/``end_s`` turns (see ``native``);
* AWS Transcribe (``results.audio_segments``, or ``results.items`` with speakers from ``speaker_label``,
  ``speaker_labels.segments`` or, for stereo recordings, ``channel_labels.channels``) and
  AWS Transcribe Call Analytics (``Transcript`` with ``ParticipantRole``);
* WhisperX-style JSON (``segments`` with ``start``, ``end``, ``text``, ``speaker``);
* WebVTT, with ``<v Speaker>`` voice tags or without them ("Name: text" prefixes, or none);
* SRT, with "Name: text" / "[Name] text" prefixes or none.

Consecutive pieces by the same speaker are merged into one turn. Speaker labels become roles by the
configured label lists, then by order (``call_first_speaker``, the agent by default). A file with no
speaker information at all is kept as one customer voice and marked ``speakers_unlabelled``.
Talk time per role, silence and overtalk come from the timings (``call_metrics``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, read_whole
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import CallMetrics, Conversation, Turn, conversation_id_from_content

_PREFIX = re.compile(
    r"^\s*(?:\[(?P<bracket>[^\]]{1,40})\]|(?P<name>[A-Za-z][\w .'-]{0,38}?)\s*:)\s+(?P<text>.+)$", re.S
)
_TAGS = re.compile(r"</?[^>]+>")


@dataclass
class _Piece:
    speaker: str | None
    text: str
    start: float
    end: float


# ---------------------------------------------------------------- metrics


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in intervals)


def _intersection(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def call_metrics(turns: list[Turn]) -> CallMetrics | None:
    """Talk time per role, silence (no one speaking) and overtalk (customer and agent at once),
    from turn offsets. None when the turns carry no timings."""
    timed = [t for t in turns if t.start_s is not None and t.end_s is not None and t.end_s >= t.start_s]
    if not timed:
        return None
    start = min(t.start_s for t in timed)  # type: ignore[type-var]
    duration = max(t.end_s for t in timed) - start  # type: ignore[operator,type-var]
    by_role: dict[str, list[tuple[float, float]]] = {}
    for turn in timed:
        by_role.setdefault(turn.role, []).append((turn.start_s, turn.end_s))  # type: ignore[arg-type]
    unions = {role: _union(spans) for role, spans in by_role.items()}
    speaking = _length(_union([span for spans in by_role.values() for span in spans]))
    overtalk = _intersection(unions.get("customer", []), unions.get("agent", []))
    silence = max(0.0, duration - speaking)
    return CallMetrics(
        duration_s=round(duration, 3),
        talk_time_s={role: round(_length(spans), 3) for role, spans in unions.items()},
        silence_s=round(silence, 3),
        overtalk_s=round(overtalk, 3),
        silence_share=round(silence / duration, 4) if duration else 0.0,
        overtalk_share=round(overtalk / duration, 4) if duration else 0.0,
    )


# ---------------------------------------------------------------- pieces to a conversation


def _conversation(
    pieces: list[_Piece],
    location: Location,
    ctx: ReadContext,
    source: str,
    source_id: str | None,
    explicit_roles: dict[str, str] | None = None,
) -> Item:
    pieces = [p for p in pieces if p.text.strip()]
    if not pieces:
        return Rejection(location, "no spoken text in the transcript")
    pieces.sort(key=lambda p: (p.start, p.end))
    labelled = any(p.speaker for p in pieces)
    roles = SpeakerRoles(ctx.settings, ctx.settings.call_first_speaker)
    turns: list[Turn] = []
    for piece in pieces:
        if not labelled:
            role = "customer"
        elif explicit_roles and piece.speaker in explicit_roles:
            role = explicit_roles[piece.speaker]
        else:
            role = roles.role(piece.speaker)
        text = clean_text(piece.text)
        previous = turns[-1] if turns else None
        if previous and previous.speaker == piece.speaker and previous.role == role:
            turns[-1] = previous.model_copy(
                update={"text": f"{previous.text} {text}", "end_s": max(previous.end_s or 0, piece.end)}
            )
        else:
            turns.append(Turn(role=role, speaker=piece.speaker, text=text, start_s=piece.start, end_s=piece.end))
    metadata: dict[str, Any] = {} if labelled else {"speakers_unlabelled": True}
    conversation_id = (
        f"call-{source_id}"
        if source_id and re.match(r"^[\w.:-]{1,120}$", source_id)
        else conversation_id_from_content("call", turns)
    )
    return Conversation(
        id=conversation_id,
        channel="call",
        source=source,
        source_id=source_id,
        metadata=metadata,
        turns=turns,
        call_metrics=call_metrics(turns),
    )


def _split_prefix(text: str) -> tuple[str | None, str]:
    match = _PREFIX.match(text)
    if not match:
        return None, text
    label = match.group("bracket") or match.group("name")
    if len(label.split()) > 4:
        return None, text
    return label.strip(), match.group("text")


# ---------------------------------------------------------------- captions


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def read_vtt(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    import webvtt
    from webvtt.errors import MalformedFileError

    location = Location(ctx.name, "file")
    text = _read_text(stream, ctx)
    if isinstance(text, Rejection):
        yield text
        return
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except (MalformedFileError, ValueError, IndexError) as exc:
        yield Rejection(location, f"not a valid WebVTT file: {exc}")
        return
    if not len(captions):
        yield Rejection(location, "no valid cues (each needs a 'HH:MM:SS.mmm --> HH:MM:SS.mmm' line)")
        return
    pieces = []
    for caption in captions:  # type: ignore[attr-defined]
        speaker = caption.voice
        body = _TAGS.sub("", caption.text)
        if not speaker:
            speaker, body = _split_prefix(body)
        pieces.append(_Piece(speaker, body, _seconds(caption.start), _seconds(caption.end)))
    yield _conversation(pieces, location, ctx, "vtt", None)


def read_srt(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    import srt

    location = Location(ctx.name, "file")
    text = _read_text(stream, ctx)
    if isinstance(text, Rejection):
        yield text
        return
    try:
        subtitles = list(srt.parse(text, ignore_errors=False))
    except (srt.SRTParseError, ValueError) as exc:
        yield Rejection(location, f"not a valid SRT file: {exc}")
        return
    pieces = []
    for subtitle in subtitles:
        speaker, body = _split_prefix(_TAGS.sub("", subtitle.content))
        pieces.append(_Piece(speaker, body, subtitle.start.total_seconds(), subtitle.end.total_seconds()))
    yield _conversation(pieces, location, ctx, "srt", None)


def _read_text(stream: BinaryIO, ctx: ReadContext) -> str | Rejection:
    data = read_whole(stream, ctx, "file")
    if isinstance(data, Rejection):
        return data
    location = Location(ctx.name, "file")
    if not data.strip():
        return Rejection(location, "empty file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Rejection(location, f"not UTF-8 text at byte {exc.start}: {exc.reason}")


# ---------------------------------------------------------------- ASR JSON


def read_asr_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        try:
            if isinstance(value, dict) and "Transcript" in value:
                yield _call_analytics(value, record.location, ctx)
            elif isinstance(value, dict) and "results" in value:
                yield _aws_transcribe(value, record.location, ctx)
            elif isinstance(value, dict) and "segments" in value:
                yield _whisperx(value, record.location, ctx)
            else:
                yield Rejection(record.location, "not a known ASR JSON shape (AWS Transcribe, WhisperX)")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            yield Rejection(record.location, f"malformed ASR JSON: {type(exc).__name__}: {exc}")


def _whisperx(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    pieces = [
        _Piece(seg.get("speaker"), str(seg.get("text", "")), float(seg["start"]), float(seg["end"]))
        for seg in value["segments"]
    ]
    return _conversation(pieces, location, ctx, "whisperx", None)


def _aws_transcribe(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    results = value["results"]
    job = value.get("jobName")
    if results.get("audio_segments"):
        pieces = [
            _Piece(s.get("speaker_label"), s["transcript"], float(s["start_time"]), float(s["end_time"]))
            for s in results["audio_segments"]
        ]
        return _conversation(pieces, location, ctx, "aws-transcribe", job)
    pieces = []
    speaker_at = _speaker_spans(results)
    for item in results.get("items", []):
        content = item["alternatives"][0]["content"]
        if item.get("type") == "punctuation":
            if pieces:
                pieces[-1].text += content
            continue
        start, end = float(item["start_time"]), float(item["end_time"])
        speaker = item.get("speaker_label") or speaker_at(start)
        if pieces and pieces[-1].speaker == speaker:
            pieces[-1].text += " " + content
            pieces[-1].end = end
        else:
            pieces.append(_Piece(speaker, content, start, end))
    return _conversation(pieces, location, ctx, "aws-transcribe", job)


def _speaker_spans(results: dict[str, Any]) -> Callable[[float], str | None]:
    """Who speaks when: speaker diarization segments, or – for stereo call recordings transcribed
    with channel identification – the items of each channel (agent and customer on their own line)."""
    spans = [
        (float(s["start_time"]), float(s["end_time"]), s["speaker_label"])
        for s in (results.get("speaker_labels") or {}).get("segments", [])
    ]
    for channel in (results.get("channel_labels") or {}).get("channels", []):
        spans += [
            (float(i["start_time"]), float(i["end_time"]), channel["channel_label"])
            for i in channel.get("items", [])
            if i.get("start_time") is not None
        ]

    def speaker_at(moment: float) -> str | None:
        return next((label for start, end, label in spans if start <= moment <= end), None)

    return speaker_at


def _call_analytics(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    pieces, roles = [], {}
    for part in value["Transcript"]:
        role = str(part.get("ParticipantRole", "")).lower()
        pieces.append(
            _Piece(role or None, part["Content"], part["BeginOffsetMillis"] / 1000, part["EndOffsetMillis"] / 1000)
        )
        if role in {"agent", "customer"}:
            roles[role] = role
    job = (value.get("JobStatus") and value.get("JobName")) or value.get("JobName")
    return _conversation(pieces, location, ctx, "aws-call-analytics", job, roles)

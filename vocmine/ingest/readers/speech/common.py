"""What every speech-to-text reader shares: timed pieces of speech, the time notations the services
use, and the one way pieces become a call ``Conversation``.

A service gives words or utterances, each with a speaker label (diarization), an audio channel
(stereo call recordings: one party a channel) or neither. Pieces keep that and ``build_call`` turns
them into turns: consecutive pieces of one speaker merge, labels become roles through
``SpeakerRoles`` (as the core call readers do), channels become roles by position (see
``channel_role``), and a transcript without either is one customer voice marked
``speakers_unlabelled``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.calls import call_metrics
from vocmine.ingest.records import Item, Location, ReadContext, Reader, Rejection
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import Conversation, SpeakerRole, Turn, conversation_id_from_content
from vocmine.settings import Settings

# Errors a converter meets on JSON that is not of the shape it expects (pydantic's ValidationError
# is a ValueError; int() of JSON's Infinity raises OverflowError).
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)
_SAFE_ID = re.compile(r"^[\w.:-]{1,120}$")
_PROTO_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)s$")  # protobuf JSON Duration: "1.300s"
_ISO_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$")
_LANGUAGE = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$")
# Whisper reports the language by name, ElevenLabs by ISO 639-3 code; the ones most asked for.
_LANGUAGE_NAMES = {
    "eng": "en",
    "spa": "es",
    "fra": "fr",
    "deu": "de",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "jpn": "ja",
    "cmn": "zh",
    "zho": "zh",
    "rus": "ru",
    "pol": "pl",
    "ara": "ar",
    "hin": "hi",
    "tur": "tr",
    "kor": "ko",
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "japanese": "ja",
    "chinese": "zh",
    "russian": "ru",
    "polish": "pl",
    "arabic": "ar",
    "hindi": "hi",
    "turkish": "tr",
    "korean": "ko",
}


@dataclass
class Piece:
    """A stretch of speech: a word, a sentence or an utterance.

    ``speaker`` is the service's label ("speaker_0", "A", "S1"); ``role`` is set when the source
    itself says who speaks (a channel of a stereo recording, a role field). ``joins`` marks
    punctuation that attaches to the text before it without a space.
    """

    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    role: SpeakerRole | None = None
    joins: bool = False


@dataclass
class CallFacts:
    """What a reader knows about the call besides its pieces."""

    source: str
    source_id: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- values


def first(mapping: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` with a value (services spell fields in camelCase or snake_case)."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def obj(value: object) -> dict[str, Any]:
    """A nested object, or an empty one where the file has null or another type."""
    return value if isinstance(value, dict) else {}


def seconds(value: object) -> float | None:
    """Seconds from the notations services use: numbers (or numeric strings), protobuf JSON
    durations ("1.300s", or {"seconds": 1, "nanos": 300000000}), ISO 8601 durations ("PT1M2.5S")
    and clock times ("00:01:02.500", "1:02,5"). None when empty; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, dict):
        result = float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9
    elif isinstance(value, str):
        result = _seconds_from_text(value.strip())
    else:
        raise ValueError(f"not a time: {str(value)[:40]!r}")
    if not math.isfinite(result):
        raise ValueError(f"not a finite time: {value!r}")
    return result


def _seconds_from_text(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    if match := _PROTO_DURATION.match(text):
        return float(match.group(1))
    if (match := _ISO_DURATION.match(text)) and text != "PT":
        hours, minutes, secs = (float(part or 0) for part in match.groups())
        return hours * 3600 + minutes * 60 + secs
    if match := _CLOCK.match(text):
        return int(match.group(1) or 0) * 3600 + int(match.group(2)) * 60 + float(match.group(3).replace(",", "."))
    raise ValueError(f"not a time: {text[:40]!r}")


def scaled(value: object, per_second: float) -> float | None:
    """A time counted in units (milliseconds: 1000, Azure ticks: 10 million) as seconds."""
    amount = seconds(value)
    return None if amount is None else amount / per_second


def language_code(value: object) -> str | None:
    """An ISO 639-1 code from a service's language tag ("en-US", "en_us", "english"), else None."""
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    if match := _LANGUAGE.match(lowered):
        return match.group(1)
    return _LANGUAGE_NAMES.get(lowered)


def label(value: object, prefix: str = "speaker") -> str | None:
    """A speaker label: the service's own string, numbers as "speaker_0" (how vocmine shows
    unnamed voices), None for no label."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"{prefix}_{int(value)}"
    text = str(value).strip()
    if text.isdigit():
        return f"{prefix}_{text}"
    return text or None


def channel_role(position: int, settings: Settings) -> SpeakerRole:
    """The role of a channel of a stereo call recording, by its position counted from 0.

    Contact-centre recorders put the agent on the first channel, as Amazon Transcribe's examples
    do ("ch_0" the agent); ``call_first_speaker`` names that first channel's role (agent by
    default, "customer" for recordings made the other way round), the second channel takes the
    other role; any further channel is a third voice, taken as a customer.
    """
    first_role: SpeakerRole = settings.call_first_speaker
    other: SpeakerRole = "customer" if first_role == "agent" else "agent"
    if position == 0:
        return first_role
    return other if position == 1 else "customer"


def channel_pieces(position: int, label_text: str, pieces: list[Piece], settings: Settings) -> list[Piece]:
    """Pieces of one channel, all with that channel's label and role; a label that itself names a
    role ("Agent", "Caller", as users may name channels) decides over the position."""
    role = SpeakerRoles(settings, "agent").known(label_text) or channel_role(position, settings)
    for piece in pieces:
        piece.speaker, piece.role = label_text, role
    return pieces


def split_on_pauses(words: Iterable[Piece], pause: float = 1.5) -> list[Piece]:
    """Words of one voice joined into utterances, a new one after each silence of ``pause``
    seconds: the words of two channels can then be interleaved by time without making a turn of
    every word when the parties overlap."""
    utterances: list[Piece] = []
    for word in words:
        last = utterances[-1] if utterances else None
        gap = None if last is None or last.end is None or word.start is None else word.start - last.end
        if last is not None and last.speaker == word.speaker and (word.joins or gap is None or gap < pause):
            last.text = join_text(last.text, word.text, word.joins)
            last.end = word.end if word.end is not None else last.end
        else:
            utterances.append(Piece(word.text, word.start, word.end, word.speaker, word.role))
    return utterances


def until(start: float | None, length: float | None) -> float | None:
    """The end of a stretch given by its start and length."""
    return start + length if start is not None and length is not None else None


def join_text(before: str, after: str, joins: bool) -> str:
    if not before:
        return after
    return before + after if joins else f"{before} {after}"


# ---------------------------------------------------------------- pieces to a call


@dataclass
class _Draft:
    speaker: str | None
    role: SpeakerRole
    text: str
    start: float | None
    end: float | None


def build_call(pieces: list[Piece], location: Location, ctx: ReadContext, facts: CallFacts) -> Item:
    """One call from its pieces: turns by speaker, roles, timings, call metrics and the id
    ``<source>-<the service's id>`` (a hash of the turns when the service gives none)."""
    pieces = [p for p in pieces if p.text.strip()]
    if not pieces:
        return Rejection(location, "no spoken text in the transcript")
    if all(p.start is not None for p in pieces):
        pieces.sort(key=lambda p: p.start or 0.0)  # stable: same-time punctuation keeps its place
    labelled = any(p.speaker is not None or p.role is not None for p in pieces)
    if labelled:
        _fill_unlabelled(pieces)
    drafts = _merge(pieces, ctx.settings, labelled)
    turns = [
        Turn(role=d.role, speaker=d.speaker, text=text, start_s=d.start, end_s=d.end)
        for d in drafts
        if (text := clean_text(d.text))
    ]
    if not turns:
        return Rejection(location, "no spoken text in the transcript")
    metadata = dict(facts.metadata)
    if not labelled:
        metadata["speakers_unlabelled"] = True
    source_id = facts.source_id
    conversation_id = (
        f"{facts.source}-{source_id}"
        if source_id and _SAFE_ID.match(source_id)
        else conversation_id_from_content("call", turns)
    )
    return Conversation(
        id=conversation_id,
        channel="call",
        source=facts.source,
        source_id=source_id,
        language=facts.language,
        metadata={k: v for k, v in metadata.items() if v is not None},
        turns=turns,
        call_metrics=call_metrics(turns),
    )


def _fill_unlabelled(pieces: list[Piece]) -> None:
    """In a diarized transcript, a piece the service could not attribute (Speechmatics "UU",
    a punctuation mark) belongs to the voice around it."""
    known = next(p for p in pieces if p.speaker is not None or p.role is not None)
    previous = (known.speaker, known.role)
    for piece in pieces:
        if piece.speaker is None and piece.role is None:
            piece.speaker, piece.role = previous
        previous = (piece.speaker, piece.role)


def _roles(pieces: list[Piece], settings: Settings) -> SpeakerRoles:
    """Roles for the call's labels. Labels that name a role decide first; when they name only one
    side ("agent_031" beside "cust_0417"), the unnamed voices are the other side rather than
    whoever speaks first."""
    probe = SpeakerRoles(settings, settings.call_first_speaker)
    named = {probe.known(p.speaker) for p in pieces if p.speaker} | {p.role for p in pieces if p.role}
    first_unknown: SpeakerRole = settings.call_first_speaker
    if "agent" in named and "customer" not in named:
        first_unknown = "customer"
    elif "customer" in named and "agent" not in named:
        first_unknown = "agent"
    return SpeakerRoles(settings, first_unknown)


def _merge(pieces: list[Piece], settings: Settings, labelled: bool) -> list[_Draft]:
    roles = _roles(pieces, settings)
    drafts: list[_Draft] = []
    for piece in pieces:
        role: SpeakerRole = piece.role or (roles.role(piece.speaker) if labelled else "customer")
        start = _offset(piece.start)
        end = _offset(piece.end)
        if start is not None and end is not None and end < start:
            end = start
        last = drafts[-1] if drafts else None
        if last is not None and last.speaker == piece.speaker and last.role == role:
            last.text = join_text(last.text, piece.text.strip(), piece.joins)
            last.end = max(last.end or 0.0, end) if end is not None else last.end
            last.start = last.start if last.start is not None else start
        else:
            drafts.append(_Draft(piece.speaker, role, piece.text.strip(), start, end))
    return drafts


def _offset(value: float | None) -> float | None:
    return None if value is None else round(max(0.0, value), 3)


# ---------------------------------------------------------------- JSON readers

Converter = Callable[[dict[str, Any], Location, ReadContext], "Item | list[Item]"]


def json_reader(convert: Converter, what: str) -> Reader:
    """A reader of JSON documents, JSON Lines or arrays of them, one call (or, for a response that
    holds several audio files, one call per file) per document."""

    def read(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
        for record in iter_json_records(stream, ctx):
            if isinstance(record, Rejection):
                yield record
                continue
            if not isinstance(record.value, dict):
                yield Rejection(record.location, f"not a {what} (a JSON {type(record.value).__name__}, not an object)")
                continue
            try:
                items = convert(record.value, record.location, ctx)
            except SHAPE_ERRORS as exc:
                yield Rejection(record.location, f"malformed {what}: {type(exc).__name__}: {exc}")
                continue
            yield from items if isinstance(items, list) else [items]

    return read


WRAPPERS = ("result", "response", "data", "body", "transcript", "transcription")


def unwrap(value: dict[str, Any], marker: str) -> dict[str, Any]:
    """The service's response inside the wrappers scripts and SDKs save it in
    (``{"result": {...}}``, ``{"response": {...}}``), found by a key it must have."""
    for _ in range(3):
        if marker in value:
            return value
        inner = next((value[k] for k in WRAPPERS if isinstance(value.get(k), dict) and marker in value[k]), None)
        if inner is None:
            return value
        value = inner
    return value


def text_of(value: object) -> str:
    """A text field that should be a string (some exports write null or numbers)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)

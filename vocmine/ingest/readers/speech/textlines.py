"""Plain-text, line-per-segment transcripts that speech pipelines write: NIST STM and CTM, and
"speaker start end text" segment lines.

* STM, segment time marks (NIST SCTK ``infmts``: https://github.com/usnistgov/SCTK/blob/master/doc/infmts.htm;
  the reference format of sclite scoring and of Kaldi, ESPnet and NeMo recipes)::

      ;; comment
      <file> <channel> <speaker> <begin> <end> [<label>] transcript ...
      call_0117 A agent_017 0.00 3.41 <o,f0,female> thanks for calling acme how can i help

  Segments are grouped by file: one call per file named in the first field. The speaker field
  decides the voices; when one speaker id covers a whole file but it has two channels (A/B, 1/2),
  the channel does: the first in sort order is "channel_0", the agent (see ``common.channel_role``).
  Segments whose text is ``IGNORE_TIME_SEGMENT_IN_SCORING`` are skipped.
* CTM, time-marked words (same page; the NIST Rich Transcription evaluation plans add the token
  type and the speaker)::

      <file> <channel> <begin> <duration> <word> [<confidence> [<type> [<speaker>]]]

  One call per file; words by speaker when the eighth field is there, else by channel when there
  are two (named "channel_0", "channel_1" in sort order), else one unlabelled voice. Tokens typed
  ``non-lex`` (noises) are skipped.
* Speaker segments, one per line, as diarization scripts print them::

      SPEAKER_00 0.03 3.52 Thank you for calling Acme, this is Dana.
      [00:00:03.520 --> 00:00:07.100] SPEAKER_01: Hi, my parcel never arrived.
      [3.52 - 7.10] Customer: Hi, my parcel never arrived.

  Times are seconds or clock times; the whole file is one call.

A Kaldi ``segments`` + ``text`` pair is two files that only make sense together; it is not read
(join the pair into STM lines first). RTTM files say who spoke when but hold no words; not read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from vocmine.ingest.readers.speech.common import (
    CallFacts,
    Piece,
    build_call,
    channel_pieces,
    seconds,
    split_on_pauses,
)
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, read_whole_text
from vocmine.ingest.roles import SpeakerRoles
from vocmine.settings import Settings

_NUMBER = r"\d+(?:\.\d*)?"
_TIME = r"\d+(?:\.\d+)?|\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
STM_LINE = re.compile(
    rf"^(?P<file>\S+)\s+(?P<channel>\S+)\s+(?P<speaker>\S+)\s+(?P<start>{_NUMBER})\s+(?P<end>{_NUMBER})"
    r"(?:\s+(?P<label><[^>]*>))?(?:\s+(?P<text>.*?))?\s*$"
)
_SCORE = r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|NA|-"  # SCTK's own example has log-likelihoods (-6.763)
CTM_LINE = re.compile(
    rf"^(?P<file>\S+)\s+(?P<channel>\S+)\s+(?P<start>{_NUMBER}|\*)\s+(?P<duration>{_NUMBER}|\*)\s+(?P<word>\S+)"
    rf"(?:\s+(?P<confidence>{_SCORE})(?:\s+(?P<type>[\w-]+)(?:\s+(?P<speaker>\S+))?)?)?\s*$"
)
SEGMENT_LINE = re.compile(
    rf"^(?:(?P<speaker>[^\s\[\]:]{{1,40}})\s+(?P<start>{_TIME})\s+(?P<end>{_TIME})\s+(?P<text>\S.*)"
    rf"|\[\s*(?P<bstart>{_TIME})\s*(?:-->|-|–)\s*(?P<bend>{_TIME})\s*\]\s*"
    rf"(?:(?P<bspeaker>[^:\[\]]{{1,40}}?)\s*:\s+)?(?P<btext>\S.*))$"
)
_IGNORED = "ignore_time_segment_in_scoring"


def is_comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith(";;")


def read_text(stream: BinaryIO, ctx: ReadContext) -> str | Rejection:
    """The whole input as text (it is one recording's transcript or a few of them)."""
    text = read_whole_text(stream, ctx, "transcript", "text transcript")
    if isinstance(text, Rejection) or text.strip():
        return text
    return Rejection(Location(ctx.name, "file"), "empty file")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not is_comment(line):
            yield number, line.strip()


# ---------------------------------------------------------------- one reader, three line shapes

Entry = tuple[str, str | None, Piece]  # channel, speaker, the timed text
Parse = Callable[["re.Match[str]"], "tuple[str, Entry] | None"]  # recording and entry; None: skip the line
Voices = Callable[[list[Entry], Settings], list[Piece]]


def _read_timed(
    stream: BinaryIO,
    ctx: ReadContext,
    pattern: re.Pattern[str],
    layout: str,
    parse: Parse,
    voices: Voices,
    source: str,
) -> Iterator[Item]:
    """Lines of ``pattern`` grouped by the recording they name, one call per recording; a line
    that is not of the ``layout`` ("an STM line: 'file channel ...'") is rejected on its own."""
    text = read_text(stream, ctx)
    if isinstance(text, Rejection):
        yield text
        return
    recordings: dict[str, list[Entry]] = {}
    first_line: dict[str, int] = {}
    bad = 0
    for number, line in _lines(text):
        match = pattern.match(line)
        if not match:
            bad += 1
            yield Rejection(Location(ctx.name, f"line {number}"), f"not {layout}")
            continue
        parsed = parse(match)
        if parsed is not None:
            first_line.setdefault(parsed[0], number)
            recordings.setdefault(parsed[0], []).append(parsed[1])
    for name, entries in recordings.items():
        location = Location(ctx.name, f"line {first_line[name]}")
        yield build_call(voices(entries, ctx.settings), location, ctx, CallFacts(source=source, source_id=name or None))
    if not recordings and not bad:
        yield Rejection(Location(ctx.name, "file"), f"no {source} line with words (only comments or skipped lines)")


def _channel_voices(entries: list[Entry], settings: Settings, join_words: bool) -> list[Piece]:
    channels = sorted({channel for channel, _, _ in entries})
    pieces: list[Piece] = []
    for position, channel in enumerate(channels):
        own = [piece for c, _, piece in entries if c == channel]
        own = split_on_pauses(own) if join_words else own
        pieces += channel_pieces(position, f"channel_{position}", own, settings)
    return pieces


def _with_speakers(entries: list[Entry]) -> list[Piece]:
    for _, speaker, piece in entries:
        piece.speaker = speaker
    return [piece for _, _, piece in entries]


# ---------------------------------------------------------------- STM


def read_stm(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    layout = "an STM line: expected 'file channel speaker begin end [<label>] words'"
    return _read_timed(stream, ctx, STM_LINE, layout, _stm_entry, _segment_voices, "stm")


def _stm_entry(match: re.Match[str]) -> tuple[str, Entry] | None:
    words = match.group("text") or ""
    if words.strip().lower() == _IGNORED:
        return None
    piece = Piece(words, float(match.group("start")), float(match.group("end")))
    return match.group("file"), (match.group("channel"), match.group("speaker"), piece)


def _segment_voices(entries: list[Entry], settings: Settings) -> list[Piece]:
    """Speakers decide the voices; a single speaker id over two channels gives way to the
    channels; a single voice that names no role stays unlabelled."""
    speakers = list(dict.fromkeys(s for _, s, _ in entries if s))
    if len(speakers) > 1:
        return _with_speakers(entries)
    if len({channel for channel, _, _ in entries}) > 1:
        return _channel_voices(entries, settings, join_words=False)
    if speakers and SpeakerRoles(settings, "agent").known(speakers[0]):
        return _with_speakers(entries)
    return [piece for _, _, piece in entries]


# ---------------------------------------------------------------- CTM


def read_ctm(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    layout = "a CTM line: expected 'file channel begin duration word [confidence [type [speaker]]]'"
    return _read_timed(stream, ctx, CTM_LINE, layout, _ctm_entry, _word_voices, "ctm")


def _ctm_entry(match: re.Match[str]) -> tuple[str, Entry] | None:
    if (match.group("type") or "").lower() == "non-lex" or match.group("start") == "*":
        return None  # noises; untimed alternation markers of reference files
    start = float(match.group("start"))
    piece = Piece(match.group("word"), start, start + float(match.group("duration")))
    return match.group("file"), (match.group("channel"), match.group("speaker"), piece)


def _word_voices(entries: list[Entry], settings: Settings) -> list[Piece]:
    if any(speaker for _, speaker, _ in entries):
        return _with_speakers(entries)
    if len({channel for channel, _, _ in entries}) > 1:
        return _channel_voices(entries, settings, join_words=True)
    return split_on_pauses(piece for _, _, piece in entries)


# ---------------------------------------------------------------- speaker segments


def read_segments(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    layout = "a speaker segment: expected 'SPEAKER start end text' or '[start --> end] SPEAKER: text'"
    return _read_timed(stream, ctx, SEGMENT_LINE, layout, _segment_entry, _labelled, "speaker-segments")


def _segment_entry(match: re.Match[str]) -> tuple[str, Entry]:
    groups = match.groupdict()
    speaker = groups["speaker"] or groups["bspeaker"]
    start, end = seconds(groups["start"] or groups["bstart"]), seconds(groups["end"] or groups["bend"])
    piece = Piece(groups["text"] or groups["btext"], start, end)
    return "", ("", speaker.strip() if speaker else None, piece)  # the whole file is one call


def _labelled(entries: list[Entry], settings: Settings) -> list[Piece]:
    return _with_speakers(entries)

"""Read any CSV or JSON export through a mapping file (``vocmine.ingest.mapping``).

Rows (CSV rows, JSON records, or the messages under a record's ``turns`` path) that share a
conversation id are one conversation, whatever their order in the file; so a file's conversations are
held in memory until it ends (about the size of its text). Each conversation is one record of the
run; a row that cannot be used (no text, a role the mapping does not know, a bad time or score) is
rejected with its line and the conversation keeps its other rows.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.csvrows import CsvHeader, CsvRow, iter_csv_rows
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.mapping import Mapping
from vocmine.ingest.readers.calls import call_metrics
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import (
    CHANNELS,
    Conversation,
    SpeakerRole,
    SurveyScores,
    Turn,
    as_utc,
    conversation_id_from_content,
    conversation_id_from_source,
)

_SAFE_ID = re.compile(r"^[\w.:@-]{1,100}$")
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)")
_CONVERSATION_FIELDS = ("customer_id", "account_id", "agent_id", "team_id", "brand", "product", "subject", "language")


@dataclass
class _Row:
    """One message row, reduced to what a conversation needs."""

    location: Location
    values: dict[str, str]  # mapped field name -> the row's value (non-empty only)
    texts: list[str]
    metadata: dict[str, str]


@dataclass
class _Pending:
    """The rows of one conversation, gathered until the input ends."""

    location: Location
    rows: list[_Row] = field(default_factory=list)


def peekable(stream: BinaryIO) -> io.BufferedReader:
    """The stream, able to show its first bytes without consuming them (ingestion passes a
    BufferedReader already; tests and other callers may not)."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(cast(io.RawIOBase, stream), 1 << 16)


def read_mapped(mapping: Mapping, stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    stream = peekable(stream)
    head = stream.peek(64)
    is_json = mapping.format == "json" or (
        mapping.format is None and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
    )
    rows = _json_rows(mapping, stream, ctx) if is_json else _csv_rows(mapping, stream, ctx)
    pending: dict[str, _Pending] = {}
    for index, row in enumerate(rows):
        if isinstance(row, Rejection):
            yield row
            continue
        key = row.values.get("conversation_id") or f"row-{index}"
        pending.setdefault(key, _Pending(row.location)).rows.append(row)
    for key, conversation in pending.items():
        yield from _conversation(mapping, key, conversation, ctx)


# ---------------------------------------------------------------- rows


def _csv_rows(mapping: Mapping, stream: BinaryIO, ctx: ReadContext) -> Iterator[_Row | Rejection]:
    columns: dict[str, str] = {}  # wanted column (lower-cased) -> header's spelling
    skipped = 0
    for item in iter_csv_rows(stream, ctx, mapping.delimiter):
        if isinstance(item, CsvHeader):
            available = {c.strip().lower(): c for c in item.columns}
            wanted = [*mapping.fields.named().items(), *(("text", t) for t in mapping.fields.texts())]
            wanted += [("metadata", m) for m in mapping.fields.metadata]
            missing = [f"'{column}' (fields.{name})" for name, column in wanted if column.lower() not in available]
            if missing:
                yield Rejection(
                    Location(ctx.name, "line 1"),
                    f"the CSV header has no column {', '.join(missing)}; its columns are: {', '.join(item.columns)}",
                )
                return
            columns = {column.lower(): available[column.lower()] for _, column in wanted}
        elif isinstance(item, CsvRow) and skipped < mapping.skip_rows:
            skipped += 1  # a second or third header row (question texts, import ids): not a record
        elif isinstance(item, CsvRow):
            cells = {wanted: item.cells.get(spelled) for wanted, spelled in columns.items()}
            yield _row(mapping, lambda path, cells=cells: cells.get(path.lower()), item.location)
        else:
            yield item


def _json_rows(mapping: Mapping, stream: BinaryIO, ctx: ReadContext) -> Iterator[_Row | Rejection]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        values = _at(record.value, mapping.records) if mapping.records else record.value
        if mapping.records and not isinstance(values, list):
            yield Rejection(record.location, f"no list of records at '{mapping.records}' (the mapping's records)")
            continue
        for index, value in enumerate(values if isinstance(values, list) else [values]):
            where = record.location if not isinstance(values, list) else _nth(record.location, index)
            if not isinstance(value, dict):
                yield Rejection(where, f"expected a JSON object, found {type(value).__name__}")
            elif mapping.turns:
                yield from _json_turn_rows(mapping, value, where)
            else:
                yield _row(mapping, lambda path, v=value: _scalar(_at(v, path)), where)


def _json_turn_rows(mapping: Mapping, record: dict[str, Any], where: Location) -> Iterator[_Row | Rejection]:
    turns = _at(record, mapping.turns or "")
    if not isinstance(turns, list) or not turns:
        yield Rejection(where, f"no list of messages at '{mapping.turns}' (the mapping's turns)")
        return
    for index, turn in enumerate(turns):

        def lookup(path: str, turn: Any = turn) -> str | None:
            found = _scalar(_at(turn, path)) if isinstance(turn, dict) else None
            return found if found is not None else _scalar(_at(record, path))

        yield _row(mapping, lookup, Location(where.file, f"{where.position}, message {index}"))


def _row(mapping: Mapping, lookup: Any, location: Location) -> _Row | Rejection:
    values = {name: value.strip() for name, path in mapping.fields.named().items() if (value := lookup(path))}
    values = {k: v for k, v in values.items() if v}
    texts = [clean_text(t) for path in mapping.fields.texts() if (t := lookup(path))]
    texts = [t for t in texts if t]
    if not texts:
        return Rejection(location, f"no text in {', '.join(repr(t) for t in mapping.fields.texts())}")
    metadata = {path: value for path in mapping.fields.metadata if (value := lookup(path))}
    return _Row(location, values, texts, metadata)


def _at(value: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0.c``), or None."""
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _nth(location: Location, index: int) -> Location:
    return Location(location.file, f"{location.position}, record {index}")


# ---------------------------------------------------------------- conversations


def _conversation(mapping: Mapping, key: str, pending: _Pending, ctx: ReadContext) -> Iterator[Item]:
    """One conversation from its rows; rows with a bad role, time or score are rejected on their own."""
    channel = next((r.values["channel"].lower() for r in pending.rows if "channel" in r.values), mapping.channel)
    if channel not in CHANNELS:
        yield Rejection(pending.location, f"unknown channel {channel!r} in fields.channel; use {', '.join(CHANNELS)}")
        return
    first_unknown: SpeakerRole = ctx.settings.call_first_speaker if channel == "call" else mapping.default_role
    speakers = SpeakerRoles(ctx.settings, first_unknown)
    ordered: list[tuple[tuple[Any, ...], list[Turn]]] = []
    survey: dict[str, float] = {}
    fields: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for position, row in enumerate(pending.rows):
        try:
            role = _role(mapping, row, speakers)
            when = _time(mapping, row.values.get("time"))
            scores = {name: _score(row.values[name], name) for name in ("nps", "csat", "ces") if name in row.values}
        except ValueError as exc:
            yield Rejection(row.location, str(exc))
            continue
        turns = [Turn(role=role, speaker=row.values.get("speaker"), text=text, timestamp=when) for text in row.texts]
        ordered.append((_order_key(row, when, position), turns))
        for scale, score in scores.items():
            survey.setdefault(scale, score)
        for name in _CONVERSATION_FIELDS:
            if name in row.values:
                fields.setdefault(name, row.values[name])
        for name, value in row.metadata.items():
            metadata.setdefault(name, value)
    if not ordered:
        return
    ordered.sort(key=lambda pair: pair[0])
    turns = [turn for _, row_turns in ordered for turn in row_turns]
    source_key = key if "conversation_id" in pending.rows[0].values else None
    try:
        conversation = Conversation(
            id=_conversation_id(mapping.source, channel, source_key, turns),
            channel=channel,  # checked against CHANNELS above
            source=mapping.source,
            source_id=source_key,
            survey=SurveyScores(**survey) if survey else None,
            metadata=dict(metadata),
            turns=turns,
            **fields,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        yield Rejection(pending.location, f"invalid conversation: {where}: {error['msg']}")
        return
    if channel == "call":
        conversation = conversation.model_copy(update={"call_metrics": call_metrics(conversation.turns)})
    yield conversation.with_time_bounds()


def _role(mapping: Mapping, row: _Row, speakers: SpeakerRoles) -> SpeakerRole:
    value = row.values.get("role")
    if value is not None:
        role = mapping.role_for(value) or speakers.known(value)
        if role is None:
            known = ", ".join(sorted(mapping.roles)) or "none"
            raise ValueError(f"role value {value!r} is not in the mapping's [roles] (known: {known})")
        return role
    if "speaker" in row.values:
        return speakers.role(row.values["speaker"])
    return mapping.default_role


def _time(mapping: Mapping, value: str | None) -> datetime | None:
    if value is None:
        return None
    when: datetime | None
    if mapping.time_format:
        try:
            when = datetime.strptime(value, mapping.time_format)
        except ValueError:
            raise ValueError(f"time {value[:40]!r} does not match time_format {mapping.time_format!r}") from None
    else:
        when = parse_timestamp(value)
    if when is not None and when.tzinfo is None and mapping.timezone:
        when = when.replace(tzinfo=ZoneInfo(mapping.timezone))
    return when


def _score(value: str, name: str) -> float:
    """A survey score from what exports write: "9", "9 - Extremely likely", "4.5", "4,5"."""
    found = _LEADING_NUMBER.match(value)
    if not found:
        raise ValueError(f"{name} {value[:40]!r} is not a number")
    return float(found.group(1).replace(",", "."))


def _order_key(row: _Row, when: datetime | None, position: int) -> tuple[Any, ...]:
    """The mapped order (numbers before words), else the time, else the input's order: rows of one
    conversation may be scattered through the file and are put back in order here."""
    order = row.values.get("order")
    if order is not None:
        number = _LEADING_NUMBER.match(order)
        if number:
            return (0, float(number.group(1).replace(",", ".")), "", position)
        return (0, math.inf, order, position)
    if when is not None:
        return (1, as_utc(when).timestamp(), "", position)  # type: ignore[union-attr]
    return (2, 0.0, "", position)


def _conversation_id(source: str, channel: str, source_key: str | None, turns: list[Turn]) -> str:
    if source_key is None:
        return conversation_id_from_content(channel, turns)
    if _SAFE_ID.match(source_key):
        return f"{source}-{source_key}"
    return conversation_id_from_source(channel, f"{source}:{source_key}")

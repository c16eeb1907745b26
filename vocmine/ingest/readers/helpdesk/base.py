"""What the help-desk readers share: walking the JSON a help desk's API or export gives, and making
conversations out of a ticket's messages.

A help-desk file holds records of three kinds, often mixed:

* **envelopes**: an API page (``{"tickets": [...], "next_page": ...}``), a search result, a Singer or
  Airbyte message (``{"type": "RECORD", "stream": ..., "record": ...}``) – opened, never a record;
* **whole tickets** (a ticket with its comments, a chat with its history): one record, one
  conversation;
* **messages** of a ticket without the ticket (a ticket's comments, audits or conversation entries,
  as the tool's ``…/tickets/{id}/comments`` endpoint gives them): the consecutive messages of one
  ticket make one conversation, with the same id a whole ticket of that id gets.

Each tool module describes its shapes with a ``ToolReader``; ``read_tool`` runs it over a stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp
from vocmine.schema import Channel, Conversation, SpeakerRole, SurveyScores, Turn, conversation_id_from_content

SAFE_ID = re.compile(r"^[\w.:@-]{1,120}$")
# What a malformed record raises inside a mapping; anything else is a bug and propagates.
# OverflowError and OSError: what datetime.fromtimestamp raises for epoch times out of its range.
MAPPING_ERRORS = (ValidationError, ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, OSError)
# Singer and Airbyte protocol messages that carry no record.
_PROTOCOL_TYPES = {"SCHEMA", "STATE", "ACTIVATE_VERSION", "LOG", "TRACE", "CATALOG", "SPEC", "CONNECTION_STATUS"}


class Unusable(Exception):
    """A record that is well formed but cannot become a conversation; the message is the reason."""


@dataclass
class Record:
    """One record with where it is and what its envelope said (side-loaded users, the
    conversation id an API page names in its links, the Singer/Airbyte stream)."""

    value: Any
    location: Location
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Message:
    """One message of a ticket, before cleaning."""

    role: SpeakerRole
    text: str
    timestamp: object = None
    speaker: str | None = None
    key: str | None = None


class ToolReader:
    """How one tool's records look. Subclasses override the hooks; ``read_tool`` drives them."""

    tool = "tool"  # the source name and id prefix, e.g. "zendesk"
    what = "record"  # how a rejection names a whole record, e.g. "Zendesk ticket"

    def expand(self, record: Record) -> list[Record] | None:
        """The records inside an envelope, or None when ``record`` is itself a record."""
        return None

    def message_key(self, record: Record) -> str | None:
        """For a message record, the id of its ticket ("" when the record does not say);
        None for a whole-conversation record."""
        return None

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        raise NotImplementedError

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        raise NotImplementedError

    def ticket_key(self, record: Record) -> str | None:
        """For a whole ticket whose messages may follow it as records of their own (a Singer tap
        emits a ticket, then its comments), the key those messages carry; None otherwise."""
        return None

    def combine(self, ticket: Record, records: list[Record], ctx: ReadContext) -> Item:
        """A ticket with the message records that followed it, as one conversation."""
        return self.whole(ticket, ctx)


def read_tool(reader: ToolReader, stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """Every record of the stream as a conversation or a rejection; consecutive messages of one
    ticket are gathered into one conversation, with the ticket itself when it came just before."""
    held: Record | None = None  # a ticket waiting to see whether its messages follow
    held_key: str | None = None
    pending: list[Record] = []
    pending_key = ""

    def flush() -> Iterator[Item]:
        nonlocal held, pending
        if held is not None and pending:
            yield _guard(reader, held.location, reader.combine, held, pending, ctx)
        elif held is not None:
            yield _guard(reader, held.location, reader.whole, held, ctx)
        elif pending:
            yield _guard(reader, pending[0].location, reader.messages, pending_key, pending, ctx)
        held, pending = None, []

    for record in _records(reader, stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        key = _guard(reader, record.location, reader.message_key, record)
        if isinstance(key, Rejection):
            yield key
            continue
        if key is not None and (key == pending_key if pending else key == held_key and held is not None):
            pending.append(record)
            pending_key = key
            continue
        yield from flush()
        if key is None:
            held_key = _guard(reader, record.location, reader.ticket_key, record)
            if isinstance(held_key, str) and held_key:
                held = record
            else:
                yield _guard(reader, record.location, reader.whole, record, ctx)
        else:
            pending, pending_key = [record], key
    yield from flush()


def _guard(reader: ToolReader, location: Location, build: Callable[..., Any], *args: Any) -> Any:
    """``build(*args)``, or the rejection that says why the record cannot be used."""
    try:
        return build(*args)
    except Unusable as exc:
        return Rejection(location, str(exc))
    except MAPPING_ERRORS as exc:
        return Rejection(location, f"malformed {reader.what}: {type(exc).__name__}: {str(exc)[:200]}")


def _records(reader: ToolReader, stream: BinaryIO, ctx: ReadContext) -> Iterator[Record | Rejection]:
    for raw in iter_json_records(stream, ctx):
        if isinstance(raw, Rejection):
            yield raw
            continue
        yield from _open(reader, Record(raw.value, raw.location), depth=0)


def _open(reader: ToolReader, record: Record, depth: int) -> Iterator[Record | Rejection]:
    """Open protocol envelopes and the tool's own wrappers, down to the records."""
    unwrapped = unwrap_protocol(record)
    if isinstance(unwrapped, Rejection):
        yield unwrapped
        return
    record = unwrapped
    if not isinstance(record.value, dict):
        yield Rejection(record.location, f"expected a JSON object, found {type(record.value).__name__}")
        return
    try:
        inner = reader.expand(record) if depth < 4 else None
    except MAPPING_ERRORS as exc:
        yield Rejection(record.location, f"malformed {reader.what} page: {type(exc).__name__}: {str(exc)[:200]}")
        return
    if inner is None:
        yield record
        return
    if not inner:
        yield Rejection(record.location, f"an empty page: no {reader.what} records in it")
        return
    for child in inner:
        yield from _open(reader, child, depth + 1)


def unwrap_protocol(record: Record) -> Record | Rejection:
    """The record inside a Singer (``{"type": "RECORD", "record": …}``) or Airbyte
    (``{"type": "RECORD", "record": {"stream", "data"}}`` or ``{"stream", "data", "emitted_at"}``) message."""
    value = record.value
    if not isinstance(value, dict):
        return record
    kind = value.get("type")
    if isinstance(kind, str) and kind in _PROTOCOL_TYPES and ("stream" in value or "value" in value or len(value) <= 3):
        return Rejection(record.location, f"a Singer/Airbyte {kind} message, not a data record")
    if kind == "RECORD" and isinstance(value.get("record"), dict):
        inner = value["record"]
        stream = value.get("stream") or inner.get("stream")
        if isinstance(inner.get("data"), dict) and "stream" in inner:  # Airbyte
            inner = inner["data"]
        return Record(inner, record.location, {**record.context, "stream": stream})
    if isinstance(value.get("data"), dict) and "stream" in value and ("emitted_at" in value or len(value) <= 3):
        return Record(value["data"], record.location, {**record.context, "stream": value["stream"]})
    return record


def children(record: Record, items: object, label: str, **context: Any) -> list[Record]:
    """The elements of a wrapper's list (or of a dict keyed by id), located inside the wrapper."""
    if isinstance(items, dict):
        items = list(items.values())
    if not isinstance(items, list):
        raise TypeError(f"'{label}' is not a list")
    merged = {**record.context, **context}
    return [
        Record(item, Location(record.location.file, f"{record.location.position}, {label}[{index}]"), merged)
        for index, item in enumerate(items)
    ]


# ---------------------------------------------------------------- values


def obj(value: dict[str, Any], name: str) -> dict[str, Any]:
    """The object in field ``name``, or an empty one when it is missing, null or not an object."""
    found = value.get(name)
    return found if isinstance(found, dict) else {}


def items(value: dict[str, Any], name: str) -> list[Any]:
    """The list in field ``name``, or an empty one."""
    found = value.get(name)
    return found if isinstance(found, list) else []


def text_of(value: dict[str, Any], *names: str) -> str:
    """The first non-empty string among the fields ``names``."""
    for name in names:
        found = value.get(name)
        if isinstance(found, str) and found.strip():
            return found
    return ""


def id_of(value: object) -> str | None:
    """A tool's identifier as a string (ids come as numbers or strings); None when absent."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | str):
        return str(value).strip() or None
    if isinstance(value, dict):
        return id_of(value.get("id"))
    return None


def names_of(value: object, key: str = "name") -> list[str]:
    """Tags and similar lists: plain strings, or objects whose ``key`` is the name."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if not isinstance(value, list):
        return []
    found = []
    for item in value:
        name = item.get(key) if isinstance(item, dict) else item
        if isinstance(name, str | int) and str(name).strip():
            found.append(str(name).strip())
    return found


def person_name(person: object) -> str | None:
    """A display name from the person objects help desks use (name, first/last, email)."""
    if not isinstance(person, dict):
        return None
    name = person.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [person.get(k) for k in ("first", "last", "first_name", "last_name", "firstname", "lastname")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if joined:
        return joined
    email = person.get("email")
    return email.strip() if isinstance(email, str) and email.strip() else None


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """Metadata without empty values."""
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def good_bad_csat(score: object) -> SurveyScores | None:
    """Zendesk's two-point rating: good = CSAT 5, bad = CSAT 1; offered/unoffered are no answer."""
    if not isinstance(score, str):
        return None
    value = {"good": 5.0, "bad": 1.0}.get(score.strip().lower())
    return SurveyScores(csat=value) if value is not None else None


# ---------------------------------------------------------------- conversations


def turns_of(messages: list[Message]) -> list[Turn]:
    """Cleaned turns, empty ones dropped, in time order when every message has a time (APIs list
    messages newest first as often as oldest first)."""
    turns = []
    for message in messages:
        text = clean_text(message.text) if message.text else ""
        if not text:
            continue
        turns.append(
            Turn(
                key=message.key,
                role=message.role,
                speaker=message.speaker,
                text=text,
                timestamp=parse_timestamp(message.timestamp),
            )
        )
    if turns and all(t.timestamp is not None for t in turns):
        turns.sort(key=lambda t: t.timestamp)  # type: ignore[arg-type,return-value]
    return turns


def make_conversation(
    tool: str, tool_id: str | None, channel: Channel, messages: list[Message], empty: str, **fields: Any
) -> Conversation:
    """The conversation ``<tool>-<tool id>`` (a content hash without a usable id), with its time
    bounds from the turns where the tool did not give them. ``empty`` is the reason given when no
    message has text."""
    turns = turns_of(messages)
    if not turns:
        raise Unusable(empty)
    conversation_id = (
        f"{tool}-{tool_id}" if tool_id and SAFE_ID.match(tool_id) else conversation_id_from_content(channel, turns)
    )
    for name in ("started_at", "ended_at"):
        if name in fields:
            fields[name] = parse_timestamp(fields[name])
    return Conversation(
        id=conversation_id, channel=channel, source=tool, source_id=tool_id, turns=turns, **fields
    ).with_time_bounds()


_NAMED_TICKET = re.compile(r"(?:ticket|case|conversation)s?[ _-]?(\d{1,19})(?!\d)", re.IGNORECASE)
_LEADING_ID = re.compile(r"^(\d{1,19})(?:[ ._-]|$)")


def ticket_id_from_name(name: str) -> str | None:
    """A ticket id in an input's name ("ticket_1234_comments.json", "1234.json"), for the files of
    one ticket's messages that do not carry it."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    found = _NAMED_TICKET.search(base) or _LEADING_ID.match(base)
    return found.group(1) if found else None

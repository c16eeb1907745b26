"""Chat transcripts: JSON exports and plain-text transcripts.

JSON (besides the vocmine format in ``native``):

* Intercom conversation objects (``{"type": "conversation", "source": …, "conversation_parts": …}``),
  as the Intercom REST API and its exports give them: user/lead/contact parts are the customer, admin
  parts the agent, bot parts the bot, internal notes system turns; ``conversation_rating.rating``
  (1–5) becomes CSAT;
* ABCD (Action-Based Conversations Dataset) dialogues (``convo_id``, ``original`` pairs of speaker
  and text; "action" lines become system turns).

Plain text: one turn starts at a line "Speaker: text", optionally preceded by a time "[12:03]",
"12:03:15" or "[2024-03-01 12:03]"; lines without a speaker continue the previous turn. Header lines
before the first turn ("Date:", "Chat ID:", "Team:", "Brand:", "Product:") fill conversation fields.
A line of three or more "-" or "=" separates conversations in one file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.native import native_conversation
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp, read_whole_text
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import Conversation, SurveyScores, Turn, conversation_id_from_content

# ---------------------------------------------------------------- JSON


def read_chat_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """Any JSON chat export: each record is recognised by its shape."""
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and ("conversation_parts" in value or value.get("type") == "conversation"):
            yield _intercom(value, record.location, ctx)
        elif isinstance(value, dict) and "original" in value and "convo_id" in value:
            yield _abcd(value, record.location, ctx)
        else:
            yield native_conversation(value, record.location, ctx)


_INTERCOM_ROLES = {
    "user": "customer",
    "lead": "customer",
    "contact": "customer",
    "admin": "agent",
    "team": "agent",
    "bot": "bot",
}


def _intercom(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    try:
        parts = []
        source = value.get("source") or {}
        if source.get("body"):
            parts.append((source.get("author") or {}, source["body"], value.get("created_at"), "comment"))
        container = value.get("conversation_parts") or {}
        for part in container.get("conversation_parts", []) if isinstance(container, dict) else container:
            if part.get("body"):
                parts.append((part.get("author") or {}, part["body"], part.get("created_at"), part.get("part_type")))
        turns = []
        customer = None
        for author, body, created, part_type in parts:
            role = "system" if part_type == "note" else _INTERCOM_ROLES.get(str(author.get("type")), "customer")
            if role == "customer" and customer is None:
                customer = author.get("id") or author.get("email")
            speaker = author.get("name") if role == "agent" else None
            turns.append(
                Turn(role=role, speaker=speaker, text=clean_text(str(body)), timestamp=parse_timestamp(created))
            )
        turns = [t for t in turns if t.text]
        if not turns:
            return Rejection(location, "Intercom conversation has no message bodies")
        rating = (value.get("conversation_rating") or {}).get("rating")
        return Conversation(
            id=f"intercom-{value['id']}" if value.get("id") else conversation_id_from_content("chat", turns),
            channel="chat",
            source="intercom",
            source_id=str(value.get("id")) if value.get("id") else None,
            customer_id=str(customer) if customer else None,
            agent_id=str(value["admin_assignee_id"]) if value.get("admin_assignee_id") else None,
            team_id=str(value["team_assignee_id"]) if value.get("team_assignee_id") else None,
            subject=(value.get("title") or source.get("subject")) or None,
            survey=SurveyScores(csat=rating) if rating else None,
            metadata={"tags": [t.get("name") for t in (value.get("tags") or {}).get("tags", [])]}
            if value.get("tags")
            else {},
            turns=turns,
        ).with_time_bounds()
    except (ValidationError, ValueError, TypeError, AttributeError, KeyError) as exc:
        return Rejection(location, f"malformed Intercom conversation: {type(exc).__name__}: {str(exc)[:200]}")


def _abcd(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    try:
        turns = []
        for speaker, text in value["original"]:
            role = {"agent": "agent", "customer": "customer", "action": "system"}.get(speaker)
            if role is None:
                return Rejection(location, f"unknown ABCD speaker {speaker!r}")
            turns.append(Turn(role=role, speaker=speaker, text=clean_text(str(text))))
        turns = [t for t in turns if t.text]
        if not turns:
            return Rejection(location, "dialogue has no text")
        scenario = value.get("scenario") or {}
        personal = scenario.get("personal") or {}
        return Conversation(
            id=f"abcd-{value['convo_id']}",
            channel="chat",
            source="abcd",
            source_id=str(value["convo_id"]),
            customer_id=personal.get("username") or personal.get("email") or personal.get("customer_name"),
            metadata={"flow": scenario.get("flow"), "subflow": scenario.get("subflow")},
            turns=turns,
        )
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        return Rejection(location, f"malformed ABCD dialogue: {type(exc).__name__}: {str(exc)[:200]}")


# ---------------------------------------------------------------- plain text

_TIME = r"(?:\[?(?P<date>\d{4}-\d{2}-\d{2}[ T])?(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)\s*(?:[AaPp][Mm])?\]?\s*[-–]?\s*)"
_TURN_LINE = re.compile(rf"^{_TIME}?(?P<label>[A-Za-z][\w .'()@&-]{{0,40}}?)\s*:\s?(?P<text>.*)$")
_SEPARATOR = re.compile(r"^\s*(?:-{3,}|={3,})\s*$")
_HEADERS = {
    "date": "date",
    "chat id": "id",
    "conversation id": "id",
    "id": "id",
    "team": "team_id",
    "brand": "brand",
    "product": "product",
    "subject": "subject",
    "channel": "channel",
}


def read_chat_text(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    text = read_whole_text(stream, ctx, "transcript", "text transcript")
    if isinstance(text, Rejection):
        yield text
        return
    block: list[str] = []
    start_line = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            if any(b.strip() for b in block):
                yield _transcript(block, Location(ctx.name, f"line {start_line}"), ctx)
            block, start_line = [], number + 1
        else:
            block.append(line)
    if any(b.strip() for b in block):
        yield _transcript(block, Location(ctx.name, f"line {start_line}"), ctx)
    elif start_line == 1:
        yield Rejection(Location(ctx.name, "file"), "empty transcript")


def _transcript(lines: list[str], location: Location, ctx: ReadContext) -> Item:
    headers: dict[str, str] = {}
    roles = SpeakerRoles(ctx.settings, "customer")
    pending: list[dict[str, Any]] = []
    for line in lines:
        match = _TURN_LINE.match(line)
        label = match.group("label").strip() if match else ""
        header_key = _HEADERS.get(label.lower()) if match and not match.group("clock") else None
        if header_key and not pending:
            headers[header_key] = match.group("text").strip()  # type: ignore[union-attr]
        elif match and _is_speaker(label, match.group("clock"), roles, pending):
            pending.append(
                {
                    "label": label,
                    "text": [match.group("text")],
                    "date": match.group("date"),
                    "clock": match.group("clock"),
                }
            )
        elif pending:
            pending[-1]["text"].append(line)
        elif line.strip():
            return Rejection(location, f"text before the first 'Speaker:' line: {line.strip()[:60]!r}")
    if not pending:
        return Rejection(location, "no 'Speaker: text' lines found")
    try:
        day = parse_timestamp(headers.get("date")) if headers.get("date") else None
    except ValueError as exc:
        return Rejection(location, f"bad Date header: {exc}")
    turns = []
    first_clock: float | None = None
    for turn in pending:
        text = clean_text("\n".join(turn["text"]))
        if not text:
            continue
        stamp, offset = _when(turn["date"], turn["clock"], day)
        if offset is not None and first_clock is None:
            first_clock = offset
        turns.append(
            Turn(
                role=roles.role(turn["label"]),
                speaker=turn["label"],
                text=text,
                timestamp=stamp,
                start_s=(offset - first_clock)
                if offset is not None and stamp is None and first_clock is not None
                else None,
            )
        )
    if not turns:
        return Rejection(location, "every turn is empty")
    source_id = headers.get("id")
    return Conversation(
        id=f"chat-{source_id}"
        if source_id and re.match(r"^[\w.:-]{1,120}$", source_id)
        else conversation_id_from_content("chat", turns),
        channel="chat",
        source="chat-text",
        source_id=source_id,
        started_at=day if day and day.tzinfo else None,
        team_id=headers.get("team_id"),
        brand=headers.get("brand"),
        product=headers.get("product"),
        subject=headers.get("subject"),
        turns=turns,
    ).with_time_bounds()


def _is_speaker(label: str, clock: str | None, roles: SpeakerRoles, pending: list[dict[str, Any]]) -> bool:
    """A "Word: …" line starts a turn when the label is a known role word, a speaker seen before,
    comes with a time, or (while fewer than two speakers are known) looks like a short name."""
    seen = {p["label"].lower() for p in pending}
    if clock or label.lower() in seen or roles.known(label):
        return True
    return len(seen) < 2 and len(label.split()) <= 3 and label[:1].isupper()


def _when(date: str | None, clock: str | None, day: datetime | None) -> tuple[datetime | None, float | None]:
    if not clock:
        return None, None
    parts = [int(p) for p in clock.split(":")]
    seconds = parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)
    base = None
    if date:
        base = datetime.fromisoformat(date.strip()).replace(tzinfo=UTC)
    elif day:
        base = day.replace(hour=0, minute=0, second=0, microsecond=0)
        base = base if base.tzinfo else base.replace(tzinfo=UTC)
    if base is None:
        return None, float(seconds)
    return base + timedelta(seconds=seconds), float(seconds)

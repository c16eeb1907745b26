"""The vocmine conversation format (JSON, an array of it, or JSON Lines), for chats and calls.

Documented in docs/formats.md. One object is one conversation::

    {"id": "chat-1042", "channel": "chat", "started_at": "2024-03-01T10:02:00Z",
     "customer_id": "C-77", "agent_id": "a.jones", "team_id": "billing", "brand": "Acme",
     "product": "broadband", "survey": {"nps": 3, "csat": 2}, "metadata": {"queue": "vip"},
     "turns": [{"role": "customer", "text": "…", "timestamp": "2024-03-01T10:02:05Z"},
               {"speaker": "Agent Jones", "text": "…", "start_s": 12.5, "end_s": 15.0}]}

A turn gives ``role`` (customer | agent | bot | system) or a ``speaker`` label that is mapped to a
role like call speaker labels are. ``channel`` defaults to "call" when turns carry ``start_s``
offsets, else "chat". Without ``id`` the conversation's id is a hash of its content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.calls import call_metrics
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import CHANNELS, Conversation, SurveyScores, Turn, conversation_id_from_content, stable_hash

_SAFE_ID = re.compile(r"^[\w.:@-]{1,128}$")
_CONVERSATION_FIELDS = ("account_id", "agent_id", "team_id", "brand", "product", "subject", "language")


def read_native(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
        else:
            yield native_conversation(record.value, record.location, ctx)


def native_conversation(value: Any, location: Location, ctx: ReadContext) -> Item:
    if not isinstance(value, dict):
        return Rejection(location, f"expected a conversation object, found {type(value).__name__}")
    turns_in = value.get("turns")
    if not isinstance(turns_in, list) or not turns_in:
        return Rejection(location, "conversation needs 'turns', a non-empty list")
    has_offsets = any(isinstance(t, dict) and t.get("start_s") is not None for t in turns_in)
    channel = value.get("channel") or ("call" if has_offsets else "chat")
    if channel not in CHANNELS:
        return Rejection(location, f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    roles = SpeakerRoles(ctx.settings, ctx.settings.call_first_speaker if channel == "call" else "customer")
    try:
        turns = [_turn(t, i, roles) for i, t in enumerate(turns_in)]
        turns = [t for t in turns if t.text]
        if not turns:
            return Rejection(location, "every turn is empty")
        survey = SurveyScores(**value["survey"]) if isinstance(value.get("survey"), dict) else None
        source_id = str(value["id"]) if value.get("id") not in (None, "") else None
        conversation = Conversation(
            id=_conversation_id(channel, source_id, turns),
            channel=channel,
            source="vocmine-json",
            source_id=source_id,
            started_at=parse_timestamp(value.get("started_at")),
            ended_at=parse_timestamp(value.get("ended_at")),
            customer_id=_text_or_none(value.get("customer_id")),
            survey=survey if survey and not survey.is_empty() else None,
            metadata=value.get("metadata") if isinstance(value.get("metadata"), dict) else {},
            turns=turns,
            **{f: _text_or_none(value.get(f)) for f in _CONVERSATION_FIELDS},
        )
    except ValidationError as exc:
        return Rejection(location, "invalid conversation: " + _first_error(exc))
    except (ValueError, TypeError) as exc:
        return Rejection(location, f"invalid conversation: {exc}")
    if channel == "call":
        conversation = conversation.model_copy(update={"call_metrics": call_metrics(conversation.turns)})
    return conversation.with_time_bounds()


def _turn(value: Any, index: int, roles: SpeakerRoles) -> Turn:
    if not isinstance(value, dict):
        raise ValueError(f"turn {index} is not an object")
    if not isinstance(value.get("text"), str):
        raise ValueError(f"turn {index} has no 'text' string")
    role = value.get("role") or roles.role(_text_or_none(value.get("speaker")))
    return Turn(
        key=_text_or_none(value.get("id")),
        role=role,
        speaker=_text_or_none(value.get("speaker")),
        text=clean_text(value["text"]),
        timestamp=parse_timestamp(value.get("timestamp")),
        start_s=value.get("start_s"),
        end_s=value.get("end_s"),
    )


def _conversation_id(channel: str, source_id: str | None, turns: list[Turn]) -> str:
    if source_id and _SAFE_ID.match(source_id):
        return source_id
    if source_id:
        return f"{channel}-{stable_hash(channel, source_id)}"
    return conversation_id_from_content(channel, turns)


def _text_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]

"""Rasa conversation trackers: ``GET /conversations/{conversation_id}/tracker`` of the Rasa HTTP API
(https://rasa.com/docs/rasa/pages/http-api#operation/getConversationTracker), the same tracker
objects dumped from a tracker store, one per file, as an array or as JSON Lines, and the action
server's request body, whose ``tracker`` member holds one
(https://rasa.com/docs/rasa/pages/action-server-api).

A tracker is ``{"sender_id", "slots", "latest_message", "latest_event_time", "events": [...]}`` (some
versions name the sender ``conversation_id``); events are documented at
https://rasa.com/docs/rasa/reference/rasa/shared/core/events: ``{"event": "user", "timestamp",
"text", "parse_data": {"intent": {"name", "confidence"}, "entities"}, "input_channel"}``,
``{"event": "bot", "timestamp", "text", "data"}``, and ``action``, ``slot``, ``session_started``,
``active_loop``, ``restart``… which are the assistant's bookkeeping, not messages.

Mapping: ``user`` events are customer turns, ``bot`` events bot turns (a bot event without text,
only buttons or an image, is not a turn). A tracker holds every session of one sender; each session
(``session_started`` event) is a conversation, id ``rasa-<sender_id>-<session start, epoch
seconds>`` (``rasa-<sender_id>`` for events before any session start), so re-reading a tracker that
has grown updates the sessions already stored. ``customer_id`` is the sender id; the intents Rasa
recognised, in order, and the input channel go to metadata. A tracker without any message is
rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp
from vocmine.schema import Conversation, Turn, conversation_id_from_content, stable_hash

_EVENT = re.compile(rb'"event"\s*:\s*"(?:user|bot|action|session_started|slot|active_loop|restart)"')
_SAFE = re.compile(r"^[\w.:@+-]{1,100}$")


def detect(sniff: Sniff) -> bool:
    """Tracker events ("event": "user" / "bot" / "action" …) inside an ``events`` list."""
    return sniff.is_json and "events" in sniff.keys and bool(_EVENT.search(sniff.head))


def read_rasa(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
        else:
            yield from _tracker(record.value, record.location)


def _tracker(value: Any, location: Location) -> Iterator[Item]:
    if isinstance(value, dict) and isinstance(value.get("tracker"), dict):  # an action server request
        value = {"sender_id": value.get("sender_id"), **value["tracker"]}
    if not isinstance(value, dict) or not isinstance(value.get("events"), list):
        yield Rejection(location, "not a Rasa tracker: no 'events' list")
        return
    sender = value.get("sender_id") or value.get("conversation_id")
    sender_id = str(sender) if sender not in (None, "") else None
    found = False
    try:
        for start, events in _sessions(value["events"]):
            conversation = _session(events, start, sender_id, value)
            if conversation is not None:
                found = True
                yield conversation
    except (ValidationError, ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        yield Rejection(location, f"malformed Rasa tracker: {type(exc).__name__}: {str(exc)[:200]}")
        return
    if not found:
        yield Rejection(location, "Rasa tracker without any user or bot message")


def _sessions(events: list[Any]) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """(session start time, events) for each session; events before the first start come first."""
    start: Any = None
    current: list[dict[str, Any]] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "session_started":
            if current:
                yield start, current
            start, current = event.get("timestamp"), []
        else:
            current.append(event)
    if current:
        yield start, current


def _session(events: list[dict[str, Any]], start: Any, sender_id: str | None, tracker: dict[str, Any]) -> Item | None:
    turns = []
    intents: list[str] = []
    channel = None
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not clean_text(text):
            continue
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent and intent not in intents:
                intents.append(str(intent))
            channel = channel or event.get("input_channel")
        turns.append(
            Turn(
                role="customer" if kind == "user" else "bot",
                speaker=sender_id if kind == "user" else None,
                text=clean_text(text),
                timestamp=parse_timestamp(event.get("timestamp")),
            )
        )
    if not turns:
        return None
    metadata: dict[str, Any] = {"intents": intents} if intents else {}
    channel = channel or tracker.get("latest_input_channel")
    if channel:
        metadata["input_channel"] = str(channel)
    if isinstance(tracker.get("tags"), list) and tracker["tags"]:
        metadata["tags"] = [str(t.get("value", t)) if isinstance(t, dict) else str(t) for t in tracker["tags"]]
    return Conversation(
        id=_conversation_id(sender_id, start, turns),
        channel="chat",
        source="rasa",
        source_id=sender_id,
        customer_id=sender_id,
        metadata=metadata,
        turns=turns,
    ).with_time_bounds()


def _conversation_id(sender_id: str | None, start: Any, turns: list[Turn]) -> str:
    if sender_id is None:
        return conversation_id_from_content("chat", turns)
    sender = sender_id if _SAFE.match(sender_id) else stable_hash(sender_id, length=16)
    if isinstance(start, int | float) and not isinstance(start, bool):
        return f"rasa-{sender}-{int(start)}"
    return f"rasa-{sender}"

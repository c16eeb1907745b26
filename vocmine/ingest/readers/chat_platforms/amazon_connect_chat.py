"""Amazon Connect chats: the chat transcript Connect saves to S3, the participant service's
``GetTranscript`` response, and Contact Lens conversational analytics output for chats.

Shapes:

* chat transcript (S3 ``…/ChatTranscripts/…json``), version 2019-08-26: ``{"Version", "AWSAccountId",
  "InstanceId", "InitialContactId", "ContactId", "Participants": [{"ParticipantId"}], "Transcript":
  [{"AbsoluteTime", "Content", "ContentType", "Id", "Type": "MESSAGE" | "EVENT", "ParticipantId",
  "DisplayName", "ParticipantRole"}]}``;
  https://docs.aws.amazon.com/connect/latest/APIReference/API_connect-participant_Item.html
* ``GetTranscript`` (``aws connectparticipant get-transcript``): ``{"InitialContactId", "Transcript":
  [...same items...], "NextToken"}``, newest first by default;
  https://docs.aws.amazon.com/connect/latest/APIReference/API_connect-participant_GetTranscript.html
* Contact Lens output for a chat (``Analysis/Chat/…analysis….json``, ``"Channel": "CHAT"``, version
  ``CHAT-2022-11-30``): the same ``Transcript`` items plus ``Participants`` with roles,
  ``CustomerMetadata.ContactId``, ``LanguageCode``, ``Categories.MatchedCategories`` and
  ``ConversationCharacteristics`` (``Sentiment.OverallSentiment.DetailsByParticipantRole``,
  ``ResponseTime``); https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files-chat.html

* Contact Lens real-time analysis for chats: ``ListRealtimeContactAnalysisSegmentsV2`` responses and
  the segment stream's ``SEGMENTS`` events (``{"Channel": "CHAT", "ContactId", "StreamingEventType",
  "Segments": [{"Transcript": {"Id", "ParticipantRole", "DisplayName", "Content", "ContentType",
  "Time": {"AbsoluteTime"}}}, {"Event": {...}}]}``);
  https://docs.aws.amazon.com/connect/latest/adminguide/chat-sample-real-time-contact-analysis-segment-stream.html
  A streaming event holds a few messages of a chat, so its messages are thread messages under the
  contact (``connect:<ContactId>``) and the run's threading joins the events of one chat.

Voice Contact Lens files (``"Channel": "VOICE"``, offsets instead of ``AbsoluteTime``) are left to the
``call-json`` format.

Mapping: id ``connect-<ContactId>`` (``InitialContactId`` when that is all there is), source
``amazon-connect``. ``MESSAGE`` items of type text/plain or text/markdown are turns (an
interactive-message answer gives its chosen option's title); ``ParticipantRole`` CUSTOMER → customer,
AGENT and SUPERVISOR → agent, SYSTEM (contact-flow prompts, which Connect sends under the
``SYSTEM_MESSAGE`` name) and CUSTOM_BOT → bot. ``EVENT`` items (joined, left, transfer, chat ended)
and attachments are not turns; they are counted in ``metadata.events``. The agent's display name is
``agent_id``; ``LanguageCode`` "en-US" gives language "en"; Contact Lens categories, overall sentiment
per role and response times go to metadata.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage, parse_timestamp
from vocmine.schema import Conversation, SpeakerRole, Turn, conversation_id_from_content

_CHAT_CHANNEL = re.compile(rb'"Channel"\s*:\s*"CHAT"')
_ROLES: dict[str, SpeakerRole] = {
    "CUSTOMER": "customer",
    "AGENT": "agent",
    "SUPERVISOR": "agent",
    "SYSTEM": "bot",
    "CUSTOM_BOT": "bot",
}
_TEXT_TYPES = {"", "text/plain", "text/markdown"}
_INTERACTIVE_ANSWER = "application/vnd.amazonaws.connect.message.interactive.response"
_EVENT_PREFIX = "application/vnd.amazonaws.connect.event."


def detect(sniff: Sniff) -> bool:
    """A Connect chat transcript or a Contact Lens chat analysis (not a voice one)."""
    if not sniff.is_json:
        return False
    if _CHAT_CHANNEL.search(sniff.head):
        return bool(sniff.keys & {"Transcript", "Participants", "ConversationCharacteristics", "ChatTranscriptVersion"})
    return sniff.has_keys("Transcript", "AbsoluteTime", "ContentType") and bool(
        sniff.keys & {"ParticipantRole", "ParticipantId"}
    )


def read_connect_chat(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
        elif isinstance(record.value, dict) and isinstance(record.value.get("Segments"), list):
            yield from _segments(record.value, record.location)
        elif isinstance(record.value, dict) and record.value.get("StreamingEventType"):
            kind = str(record.value["StreamingEventType"])[:20]
            yield Rejection(record.location, f"Contact Lens streaming event ({kind}) without chat messages")
        else:
            yield _conversation(record.value, record.location)


def _segments(value: dict[str, Any], location: Location) -> Iterator[Item]:
    """Contact Lens real-time chat analysis: a ``ListRealtimeContactAnalysisSegmentsV2`` response is
    one chat; a streaming ``SEGMENTS`` event (Kinesis, one line each) holds a few messages of a chat,
    so its messages are thread messages under the contact, joined across events by the threading."""
    items = [_segment_item(segment) for segment in value["Segments"] if isinstance(segment, dict)]
    flattened = {**value, "Transcript": [item for item in items if item]}
    contact = _contact_id(value)
    if not value.get("StreamingEventType") or contact is None:
        yield _conversation(flattened, location)
        return
    turns: list[Turn] = []
    try:
        roles, events = _participant_roles(value), Counter[str]()
        turns = [t for item in flattened["Transcript"] if (t := _turn(item, roles, events)) is not None]
    except (ValidationError, ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        yield Rejection(location, f"malformed Contact Lens segment: {type(exc).__name__}: {str(exc)[:200]}")
        return
    if not turns:
        kind = str(value.get("StreamingEventType"))[:20]
        yield Rejection(location, f"Contact Lens streaming event ({kind}) without chat messages")
    for turn in turns:
        yield ThreadMessage(
            channel="chat",
            source="amazon-connect",
            key=turn.key or f"connect:{contact}:{turn.identity()}",
            parent_keys=[f"connect:{contact}"],
            turn=turn,
            location=location,
        )


def _segment_item(segment: dict[str, Any]) -> dict[str, Any] | None:
    """A real-time segment as a transcript item (``Time.AbsoluteTime`` instead of ``AbsoluteTime``)."""
    for kind, item_type in (("Transcript", "MESSAGE"), ("Event", "EVENT"), ("Attachments", "ATTACHMENT")):
        part = segment.get(kind)
        if isinstance(part, dict):
            item = {**part, "Type": item_type, "AbsoluteTime": _dict(part.get("Time")).get("AbsoluteTime")}
            if kind == "Event":
                item["ContentType"] = part.get("EventType")
            return item
    return None


def _conversation(value: Any, location: Location) -> Item:
    if not isinstance(value, dict) or not isinstance(value.get("Transcript"), list):
        return Rejection(location, "not an Amazon Connect chat: no 'Transcript' list")
    if str(value.get("Channel") or "CHAT").upper() != "CHAT":
        return Rejection(location, f"Amazon Connect {value.get('Channel')} contact, not a chat")
    try:
        roles = _participant_roles(value)
        events: Counter[str] = Counter()
        turns = []
        for item in value["Transcript"]:
            turn = _turn(item, roles, events) if isinstance(item, dict) else None
            if turn is not None:
                turns.append(turn)
        if not turns:
            return Rejection(location, "Amazon Connect chat without any text message")
        # GetTranscript returns the newest first; the S3 transcript is in time order already.
        turns.sort(key=lambda t: (t.timestamp is None, t.timestamp.timestamp() if t.timestamp else 0.0))
        contact = _contact_id(value)
        metadata = _metadata(value, events)
        language = str(value.get("LanguageCode") or "").split("-")[0].lower() or None
        return Conversation(
            id=f"connect-{contact}" if contact else conversation_id_from_content("chat", turns),
            channel="chat",
            source="amazon-connect",
            source_id=contact,
            agent_id=next((t.speaker for t in turns if t.role == "agent" and t.speaker), None),
            language=language,
            metadata=metadata,
            turns=turns,
        ).with_time_bounds()
    except (ValidationError, ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        return Rejection(location, f"malformed Amazon Connect chat: {type(exc).__name__}: {str(exc)[:200]}")


def _participant_roles(value: dict[str, Any]) -> dict[str, str]:
    roles = {}
    for participant in value.get("Participants") or []:
        if isinstance(participant, dict) and participant.get("ParticipantId") and participant.get("ParticipantRole"):
            roles[str(participant["ParticipantId"])] = str(participant["ParticipantRole"]).upper()
    return roles


def _turn(item: dict[str, Any], roles: dict[str, str], events: Counter[str]) -> Turn | None:
    content_type = str(item.get("ContentType") or "")
    kind = str(item.get("Type") or "MESSAGE").upper()
    if kind == "ATTACHMENT" or item.get("Attachments"):
        events["attachment"] += 1
        return None
    if kind != "MESSAGE" or content_type.startswith(_EVENT_PREFIX):
        events[content_type.removeprefix(_EVENT_PREFIX) or kind.lower()] += 1
        return None
    text = _content(item.get("Content"), content_type)
    if text is None:
        events[content_type or "no content"] += 1
        return None
    role_name = str(item.get("ParticipantRole") or roles.get(str(item.get("ParticipantId")), "")).upper()
    role = _ROLES.get(role_name, "customer" if role_name == "" else "system")
    speaker = str(item["DisplayName"]) if item.get("DisplayName") and role != "bot" else None
    return Turn(
        key=f"connect:{item['Id']}" if item.get("Id") else None,
        role=role,
        speaker=speaker,
        text=text,
        timestamp=parse_timestamp(item.get("AbsoluteTime")),
    )


def _content(content: Any, content_type: str) -> str | None:
    if not isinstance(content, str) or not content.strip():
        return None
    if content_type == _INTERACTIVE_ANSWER:
        try:
            data = json.loads(content).get("data", {}).get("content", {})
        except (ValueError, AttributeError):
            return None
        title = data.get("title") if isinstance(data, dict) else None
        return clean_text(str(title)) if title else None
    if content_type.lower() not in _TEXT_TYPES:
        return None
    return clean_text(content) or None


def _contact_id(value: dict[str, Any]) -> str | None:
    customer = _dict(value.get("CustomerMetadata"))
    for candidate in (value.get("ContactId"), customer.get("ContactId"), value.get("InitialContactId")):
        if candidate and re.match(r"^[\w.:-]{1,128}$", str(candidate)):
            return str(candidate)
    return None


def _metadata(value: dict[str, Any], events: Counter[str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if events:
        metadata["events"] = dict(events)
    categories = (value.get("Categories") or {}).get("MatchedCategories")
    if categories:
        metadata["categories"] = [str(c) for c in categories]
    characteristics = value.get("ConversationCharacteristics") or {}
    overall = ((characteristics.get("Sentiment") or {}).get("OverallSentiment")) or {}
    by_role = overall.get("DetailsByParticipantRole") if isinstance(overall, dict) else None
    if isinstance(by_role, dict) and by_role:
        metadata["contact_lens_sentiment"] = by_role
    response = characteristics.get("ResponseTime") or {}
    if isinstance(response, dict) and response:
        details = response.get("DetailsByParticipantRole") or {}
        metadata["response_time_ms"] = {
            "agent_greeting": response.get("AgentGreetingTimeMillis"),
            **{
                str(role).lower(): (v.get("Average") or {}).get("ValueMillis")
                for role, v in details.items()
                if isinstance(v, dict)
            },
        }
    for key, name in (("InstanceId", "instance_id"), ("InitialContactId", "initial_contact_id")):
        if value.get(key) and value.get(key) != value.get("ContactId"):
            metadata[name] = str(value[key])
    return metadata


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one (optional parts are often null)."""
    return value if isinstance(value, dict) else {}

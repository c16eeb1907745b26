"""Messaging platforms read through their APIs: LivePerson conversations and Twilio Conversations
messages, saved as JSON as the APIs return them (one response per file, an array or JSON Lines).

LivePerson Messaging Interactions API (``POST /messaging_history/api/account/{accountID}/
conversations/search``;
https://developers.liveperson.com/messaging-interactions-api-methods-conversations.html): a page
``{"_metadata", "conversationHistoryRecords": [...]}``; each record has ``info`` (``conversationId``,
``startTimeL``, ``latestAgentId``, ``latestSkillName``, ``status``, ``closeReason``, ``mcs``,
``csatRate``, ``brandId``), ``messageRecords`` (``messageId``, ``seq``, ``sentBy``: "Consumer" |
"Agent", ``participantId``, ``timeL``, ``type``, ``messageData.msg.text`` or ``messageData.file
.caption``), ``agentParticipants`` (``agentId``, ``agentFullName``, ``userTypeName``: "Human" | "Bot"),
``consumerParticipants``, ``conversationSurveys``, ``sdes`` and ``summary``. Mapping: id
``liveperson-<conversationId>``; consumer messages are the customer's, agent messages an agent's, or
the bot's when the sending participant is a bot user; ``csatRate`` (1–5) is CSAT, and a survey
answer 0–10 to a "recommend" question is NPS; the skill is ``team_id``, the latest agent
``agent_id``; the brand's customer id (``sdes`` customer info) or else the consumer's participant id
is ``customer_id``; status, close reason, MCS (meaningful connection score), device, source and
the agent's summary go to metadata. Rich-content and file messages without a caption are not turns;
they are counted in ``metadata.non_text_messages``.

Twilio Conversations (``GET https://conversations.twilio.com/v1/Conversations/{ConversationSid}/
Messages``; https://www.twilio.com/docs/conversations/api/conversation-message-resource): a page
``{"messages": [...], "meta": {...}}`` of ``{"sid", "conversation_sid", "index", "author", "body",
"media", "participant_sid", "attributes", "date_created"}``. Pages of one conversation may be saved
in several files, so each message is a thread message keyed ``twilio:<sid>`` under its conversation
``twilio:<conversation_sid>``, and the run's threading joins them. Roles: author ``system`` is a
system turn; an author that is an address (a phone number, ``whatsapp:+…``, ``messenger:…``) is
the customer; an author the settings' labels or ``brand_accounts`` name is an agent; otherwise the
first other author of a conversation in the file is the customer and the rest agents (Flex agents
write under their worker identity). A message without a body (media only) is rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage, parse_timestamp
from vocmine.ingest.roles import SpeakerRoles
from vocmine.schema import Conversation, SpeakerRole, SurveyScores, Turn, conversation_id_from_content

_SAFE = re.compile(r"^[\w.:@-]{1,128}$")

# ---------------------------------------------------------------- LivePerson


def detect_liveperson(sniff: Sniff) -> bool:
    if not sniff.is_json:
        return False
    return "conversationHistoryRecords" in sniff.keys or (
        sniff.has_keys("messageRecords", "sentBy") and bool(sniff.keys & {"info", "messageData"})
    )


def read_liveperson(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and isinstance(value.get("conversationHistoryRecords"), list):
            for index, conversation in enumerate(value["conversationHistoryRecords"]):
                where = Location(record.location.file, f"{record.location.position}, conversation {index}")
                yield _liveperson(conversation, where)
        else:
            yield _liveperson(value, record.location)


def _liveperson(value: Any, location: Location) -> Item:
    if not isinstance(value, dict) or not isinstance(value.get("messageRecords"), list):
        return Rejection(location, "not a LivePerson conversation record: no 'messageRecords' list")
    info = _dict(value.get("info"))
    try:
        agents = _liveperson_agents(value)
        records = sorted(
            (m for m in value["messageRecords"] if isinstance(m, dict)),
            key=lambda m: (m.get("seq") if isinstance(m.get("seq"), int) else 0, m.get("timeL") or 0),
        )
        turns, skipped = [], 0
        for message in records:
            turn = _liveperson_turn(message, agents)
            if turn is None:
                skipped += 1
            else:
                turns.append(turn)
        if not turns:
            return Rejection(location, "LivePerson conversation without any text message")
        conversation_id = str(info.get("conversationId") or "")
        metadata = _liveperson_metadata(value, info)
        if skipped:
            metadata["non_text_messages"] = skipped
        return Conversation(
            id=f"liveperson-{conversation_id}"
            if _SAFE.match(conversation_id)
            else conversation_id_from_content("chat", turns),
            channel="chat",
            source="liveperson",
            source_id=conversation_id or None,
            started_at=parse_timestamp(info.get("startTimeL")) if info.get("startTimeL") else None,
            customer_id=_liveperson_customer(value),
            agent_id=str(info["latestAgentId"]) if info.get("latestAgentId") not in (None, "", -1) else None,
            team_id=str(info["latestSkillName"])
            if info.get("latestSkillName") not in (None, "", "Unassigned")
            else None,
            survey=_liveperson_survey(value, info),
            metadata=metadata,
            turns=turns,
        ).with_time_bounds()
    except (ValidationError, ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        return Rejection(location, f"malformed LivePerson conversation: {type(exc).__name__}: {str(exc)[:200]}")


def _liveperson_agents(value: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Agent participant id → (name to show, is a bot)."""
    agents: dict[str, tuple[str, bool]] = {}
    participants = value.get("agentParticipants")
    for agent in participants if isinstance(participants, list) else []:
        agent = _dict(agent)
        is_bot = str(agent.get("userTypeName") or agent.get("userType") or "").lower() in ("bot", "2")
        name = str(agent.get("agentNickname") or agent.get("agentFullName") or agent.get("agentId") or "")
        for key in ("agentId", "agentPid", "participantId"):
            if agent.get(key):
                agents[str(agent[key])] = (name, is_bot)
    return agents


def _liveperson_turn(message: dict[str, Any], agents: dict[str, tuple[str, bool]]) -> Turn | None:
    data = _dict(message.get("messageData"))
    msg = _dict(data.get("msg"))
    file = _dict(data.get("file"))
    text = clean_text(str(msg.get("text") or file.get("caption") or ""))
    if not text:
        return None
    sent_by = str(message.get("sentBy") or "").lower()
    participant = str(message.get("participantId") or "")
    name, is_bot = agents.get(participant, (participant, False))
    role: SpeakerRole = "customer" if sent_by == "consumer" else "bot" if is_bot else "agent"
    if sent_by == "system":
        role = "system"
    return Turn(
        key=f"liveperson:{message['messageId']}" if message.get("messageId") else None,
        role=role,
        speaker=(participant if role == "customer" else name) or None,
        text=text,
        timestamp=parse_timestamp(message.get("timeL") or message.get("time")),
    )


def _liveperson_customer(value: dict[str, Any]) -> str | None:
    events = _dict(value.get("sdes")).get("events")
    for event in events if isinstance(events, list) else []:
        info = _dict(_dict(_dict(event).get("customerInfo")).get("customerInfo"))
        if info.get("customerId"):
            return str(info["customerId"])
    consumers = value.get("consumerParticipants") or value.get("consumerParticipant") or []
    for consumer in consumers if isinstance(consumers, list) else []:
        if isinstance(consumer, dict) and consumer.get("participantId"):
            return str(consumer["participantId"])
    return None


def _liveperson_survey(value: dict[str, Any], info: dict[str, Any]) -> SurveyScores | None:
    csat = _number(info.get("csatRate"))
    nps = None
    for survey in value.get("conversationSurveys") or []:
        answers = _dict(survey).get("surveyData")
        for answer in answers if isinstance(answers, list) else []:
            question, score = str(_dict(answer).get("question") or "").lower(), _number(_dict(answer).get("answer"))
            if score is None:
                continue
            if "recommend" in question and 0 <= score <= 10:
                nps = int(score)
            elif csat is None and "satisf" in question and 1 <= score <= 5:
                csat = score
    csat = csat if csat is not None and 1 <= csat <= 5 else None
    return SurveyScores(csat=csat, nps=nps) if csat is not None or nps is not None else None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "", True, False) else None
    except (TypeError, ValueError):
        return None


def _liveperson_metadata(value: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    keep = {
        "status": "status",
        "closeReason": "close_reason",
        "mcs": "mcs",
        "device": "device",
        "source": "source",
        "brandId": "brand_id",
        "latestAgentFullName": "agent_name",
    }
    metadata: dict[str, Any] = {
        name: info[key] for key, name in keep.items() if info.get(key) not in (None, "", "undefined")
    }
    summary = value.get("summary")
    if isinstance(summary, dict) and summary.get("text"):
        metadata["summary"] = clean_text(str(summary["text"]))
    transfers = value.get("transfers")
    if isinstance(transfers, list) and transfers:
        metadata["transfers"] = len(transfers)
    return metadata


# ---------------------------------------------------------------- Twilio Conversations

_ADDRESS = re.compile(r"^(?:(?:whatsapp|messenger|sms|rcs|gbm|mms):)?\+?\d[\d ()-]{5,}$|^(?:messenger|gbm):\S+$")


def detect_twilio(sniff: Sniff) -> bool:
    return (
        sniff.is_json
        and sniff.has_keys("conversation_sid", "author", "body")
        and bool(sniff.keys & {"index", "participant_sid", "date_created"})
    )


def read_twilio(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """A file is one page (at most 1,000 messages), so it is read whole before roles are decided:
    a customer's address may first appear after an agent's message."""
    messages: list[tuple[Any, Location]] = []
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and isinstance(value.get("messages"), list) and "body" not in value:
            for index, message in enumerate(value["messages"]):
                messages.append(
                    (message, Location(record.location.file, f"{record.location.position}, message {index}"))
                )
        else:
            messages.append((value, record.location))
    roles: dict[str, SpeakerRoles] = {}
    for value, _ in messages:  # addresses first: they are the customers, so the others are agents
        author = str(_dict(value).get("author") or "")
        if _ADDRESS.match(author):
            speakers = roles.setdefault(str(value.get("conversation_sid")), SpeakerRoles(ctx.settings, "customer"))
            speakers.assigned[author.lower()] = "customer"
    for value, location in messages:
        yield _twilio(value, location, ctx, roles)


def _twilio(value: Any, location: Location, ctx: ReadContext, roles: dict[str, SpeakerRoles]) -> Item:
    if not isinstance(value, dict):
        return Rejection(location, f"expected a Twilio message object, found {type(value).__name__}")
    sid, conversation = str(value.get("sid") or ""), str(value.get("conversation_sid") or "")
    if not sid or not conversation:
        return Rejection(location, "Twilio message without 'sid' or 'conversation_sid'")
    text = clean_text(str(value.get("body") or ""))
    if not text:
        media = value.get("media") if isinstance(value.get("media"), list) else []
        return Rejection(location, "Twilio message without a text body" + (" (media only)" if media else ""))
    author = str(value.get("author") or "system")
    try:
        role = _twilio_role(author, roles.setdefault(conversation, SpeakerRoles(ctx.settings, "customer")), ctx)
        turn = Turn(
            key=f"twilio:{sid}",
            role=role,
            speaker=None if role == "system" else author,
            text=text,
            timestamp=parse_timestamp(value.get("date_created")),
        )
    except (ValidationError, ValueError, TypeError, OverflowError, OSError) as exc:
        return Rejection(location, f"malformed Twilio message: {str(exc)[:200]}")
    metadata: dict[str, Any] = {}
    attributes = _attributes(value.get("attributes"))
    if attributes:
        metadata["twilio_attributes"] = attributes
    return ThreadMessage(
        channel="chat",
        source="twilio-conversations",
        key=f"twilio:{sid}",
        parent_keys=[f"twilio:{conversation}"],
        turn=turn,
        location=location,
        customer_id=author if role == "customer" else None,
        metadata=metadata,
    )


def _twilio_role(author: str, roles: SpeakerRoles, ctx: ReadContext) -> SpeakerRole:
    if author.lower() == "system":
        return "system"
    if _ADDRESS.match(author):
        return "customer"
    if author.lower().lstrip("@") in {b.lower().lstrip("@") for b in ctx.settings.brand_accounts}:
        return "agent"
    # A customer address in the conversation counts as its first unknown label: the others are agents.
    return roles.role(author)


def _attributes(raw: Any) -> dict[str, Any] | None:
    """``attributes`` is a JSON string ("{}" when unset)."""
    if isinstance(raw, dict):
        return raw or None
    if not isinstance(raw, str) or raw.strip() in ("", "{}"):
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and parsed else None


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one (optional parts are often null)."""
    return value if isinstance(value, dict) else {}

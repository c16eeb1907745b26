"""Gorgias tickets and ticket messages (format ``gorgias-json``).

Shapes from https://developers.gorgias.com/reference/tickets (the Ticket object, "List tickets",
"Retrieve a ticket") and https://developers.gorgias.com/reference/ticket-messages (the TicketMessage
object, "List messages"): a list page ``{"data": [...], "meta": {...}, "object": "list"}``, one ticket
(with its ``messages``), a bare array, or records one per line. Message records carrying ``ticket_id``
without their ticket are gathered per ticket.

Mapping: id ``gorgias-<ticket id>``. A message with ``public: false`` is an internal note (system);
``from_agent: true`` is the agent (the bot when a rule sent it: ``rule_id`` set or ``via: "rule"``),
``from_agent: false`` the customer. Text: ``stripped_text`` (the body without quoted reply and
signature), else ``body_text``, else the HTML bodies. Time: ``sent_datetime``, else
``created_datetime``. ``channel``: email, contact form, help center, API → email; chat, SMS,
WhatsApp, Messenger, Instagram direct messages → chat; Facebook/Instagram comments and mentions,
Twitter → social; phone, Aircall → call. ``customer.id`` → customer_id, ``assignee_user.id`` →
agent_id, ``assignee_team`` → team_id; status, priority, language, tags and ``via`` go to metadata;
``satisfaction_survey.score`` (1–5) is CSAT, its ``body_text`` metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.readers.helpdesk.base import (
    Message,
    Record,
    ToolReader,
    Unusable,
    children,
    compact,
    id_of,
    items,
    make_conversation,
    names_of,
    obj,
    person_name,
    read_tool,
    text_of,
    ticket_id_from_name,
)
from vocmine.ingest.records import Item, ReadContext
from vocmine.schema import Channel, Conversation, SpeakerRole, SurveyScores

_CHAT = {"chat", "sms", "whatsapp", "facebook-messenger", "instagram-direct-message", "twitter-direct-message"}
_SOCIAL = {
    "facebook",
    "facebook-mention",
    "facebook-recommendations",
    "instagram-comment",
    "instagram-ad-comment",
    "instagram-mention",
    "twitter",
    "tiktok-shop",
}
_CALL = {"phone", "aircall"}
_TEXT_FIELDS = ("stripped_text", "body_text", "stripped_html", "body_html")


def read_gorgias(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(Gorgias(), stream, ctx)


def channel_of(name: object) -> Channel:
    slug = str(name or "").strip().lower().replace("_", "-")
    if slug in _CHAT:
        return "chat"
    if slug in _SOCIAL:
        return "social"
    if slug in _CALL:
        return "call"
    return "email"


def _is_message(value: dict[str, Any]) -> bool:
    return "ticket_id" in value and bool(value.keys() & {"from_agent", *_TEXT_FIELDS})


class Gorgias(ToolReader):
    tool = "gorgias"
    what = "Gorgias ticket"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if "id" not in value and isinstance(value.get("data"), list):
            return children(record, value["data"], "data", group=str(record.location))
        return None

    def message_key(self, record: Record) -> str | None:
        if not _is_message(record.value):
            return None
        return id_of(record.value.get("ticket_id")) or str(record.context.get("group", ""))

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        value = record.value
        if not value.keys() & {"messages", "customer", "subject", "channel"}:
            raise Unusable(f"not a Gorgias ticket or message (keys: {', '.join(sorted(value)[:8])})")
        return self._ticket(value)

    def _ticket(self, value: dict[str, Any]) -> Conversation:
        customer = obj(value, "customer")
        messages = [_message(m, id_of(customer)) for m in items(value, "messages") if isinstance(m, dict)]
        metadata: dict[str, Any] = {}
        if not messages and (text := text_of(value, "subject")):
            messages.append(Message("customer", text, value.get("created_datetime"), person_name(customer)))
            metadata["text_from"] = "subject"
        survey = obj(value, "satisfaction_survey")
        team = value.get("assignee_team")
        return make_conversation(
            "gorgias",
            id_of(value.get("id")),
            channel_of(value.get("channel")),
            messages,
            "Gorgias ticket has no message or subject text",
            started_at=value.get("created_datetime"),
            ended_at=value.get("closed_datetime"),
            subject=text_of(value, "subject") or None,
            customer_id=id_of(customer) or customer.get("email") or None,
            agent_id=id_of(value.get("assignee_user")),
            team_id=id_of(team) or (team.get("name") if isinstance(team, dict) else None),
            survey=_survey(survey.get("score")),
            metadata=compact(
                {
                    **metadata,
                    "status": value.get("status"),
                    "priority": value.get("priority"),
                    "language": value.get("language"),
                    "channel": value.get("channel"),
                    "via": value.get("via"),
                    "tags": names_of(value.get("tags")),
                    "satisfaction_comment": survey.get("body_text"),
                }
            ),
        )

    def ticket_key(self, record: Record) -> str | None:
        return id_of(record.value.get("id")) if not _is_message(record.value) else None

    def combine(self, ticket: Record, records: list[Record], ctx: ReadContext) -> Item:
        value = {**ticket.value, "messages": [*items(ticket.value, "messages"), *(r.value for r in records)]}
        return self.whole(Record(value, ticket.location, ticket.context), ctx)

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        values = [r.value for r in records]
        ticket_id = next((t for v in values if (t := id_of(v.get("ticket_id")))), None)
        return make_conversation(
            "gorgias",
            ticket_id or ticket_id_from_name(ctx.name),
            channel_of(values[0].get("channel")),
            [_message(v, None) for v in values],
            "Gorgias messages have no text",
            subject=next((s for v in values if (s := text_of(v, "subject"))), None),
        )


def _message(message: dict[str, Any], customer_id: str | None) -> Message:
    sender = obj(message, "sender")
    role: SpeakerRole
    if message.get("public") is False:
        role = "system"
    elif isinstance(message.get("from_agent"), bool):
        automated = message.get("rule_id") is not None or message.get("via") == "rule"
        role = ("bot" if automated else "agent") if message["from_agent"] else "customer"
    else:
        role = "customer" if customer_id is not None and id_of(sender) == customer_id else "agent"
    return Message(
        role=role,
        text=text_of(message, *_TEXT_FIELDS),
        timestamp=message.get("sent_datetime") or message.get("created_datetime"),
        speaker=person_name(sender),
        key=f"gorgias-message-{message['id']}" if id_of(message.get("id")) else None,
    )


def _survey(score: object) -> SurveyScores | None:
    if isinstance(score, int | float) and not isinstance(score, bool) and 1 <= score <= 5:
        return SurveyScores(csat=float(score))
    return None

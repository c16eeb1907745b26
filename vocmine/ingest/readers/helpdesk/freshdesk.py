"""Freshdesk API v2 tickets and ticket conversations (format ``freshdesk-json``).

Shapes from https://developers.freshdesk.com/api/ (Tickets: "View a Ticket", "List All Tickets",
"Filter Tickets"; Conversations: "List All Conversations of a Ticket"; Satisfaction Ratings):

* tickets: a bare array (``GET /api/v2/tickets``), one ticket (``GET /api/v2/tickets/{id}``, with
  ``?include=conversations`` its ``conversations`` inline, with ``include=requester`` its
  ``requester``), search results ``{"results": [...], "total": n}``, or tickets one per line;
* a legacy API v1 ticket (``{"helpdesk_ticket": {...}}`` with ``notes``), read as its v2 equivalent;
* one ticket's conversation entries without the ticket (``GET /api/v2/tickets/{id}/conversations``, a
  bare array; each entry carries ``ticket_id``): the entries of one ticket make one conversation.

Mapping: id ``freshdesk-<ticket id>``. ``description_text`` (else the HTML ``description``) is the
requester's first turn, the agent's for an outbound e-mail ticket (source 10). Conversation entries:
``private: true`` → system (a note), ``incoming: true`` → customer, ``incoming: false`` → agent;
without ``incoming``, the requester (``user_id == requester_id``) is the customer. ``body_text``
(else the HTML ``body``). ``source``: 1 email, 2 portal, 9 feedback widget, 10 outbound email →
email; 3 phone → call; 7 chat → chat; 5 Twitter, 6 Facebook → social. ``requester_id`` →
customer_id, ``responder_id`` → agent_id, ``group_id`` → team_id, ``company_id`` → account_id;
status (2 open, 3 pending, 4 resolved, 5 closed), priority (1 low … 4 urgent), source, type, tags,
``custom_fields`` and ``product_id`` go to metadata. A satisfaction rating embedded in a ticket
(``satisfaction_rating`` with ``ratings.default_question`` on Freshdesk's -103…103 scale: 103
extremely happy, 100 neutral, -103 extremely unhappy) becomes CSAT 1–5 linearly over its seven points.
A ticket read without ``include=conversations`` is marked ``metadata.text_from = "description"``; one
without description or conversations (``List All Tickets`` omits both) keeps its subject as the
customer's text, marked ``metadata.text_from = "subject"``.
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
    person_name,
    read_tool,
    text_of,
    ticket_id_from_name,
)
from vocmine.ingest.records import Item, ReadContext
from vocmine.schema import Channel, Conversation, SpeakerRole, SurveyScores

_SOURCES: dict[int, tuple[str, Channel]] = {
    1: ("email", "email"),
    2: ("portal", "email"),
    3: ("phone", "call"),
    5: ("twitter", "social"),
    6: ("facebook", "social"),
    7: ("chat", "chat"),
    9: ("feedback widget", "email"),
    10: ("outbound email", "email"),
}
_STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed", 6: "waiting on customer", 7: "waiting on third party"}
_PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
_OUTBOUND_EMAIL = 10
_RATING_SCALE = (-103, -102, -101, 100, 101, 102, 103)


def read_freshdesk(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(Freshdesk(), stream, ctx)


def _code(value: object) -> int | None:
    """Freshdesk codes are numbers, sometimes written as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _is_entry(value: dict[str, Any]) -> bool:
    """A conversation entry (reply, note, incoming message) rather than a ticket."""
    return "incoming" in value or (
        "ticket_id" in value and bool(value.keys() & {"body", "body_text"}) and "ratings" not in value
    )


def rating_csat(rating: object) -> SurveyScores | None:
    """Freshdesk's -103…103 satisfaction answer as CSAT 1–5 (linear over the seven points)."""
    if not isinstance(rating, dict):
        return None
    ratings = rating.get("ratings")
    value = _code(ratings.get("default_question")) if isinstance(ratings, dict) else _code(rating.get("rating"))
    if value not in _RATING_SCALE:
        return None
    return SurveyScores(csat=round(1 + 4 * _RATING_SCALE.index(value) / 6, 2))


class Freshdesk(ToolReader):
    tool = "freshdesk"
    what = "Freshdesk ticket"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if isinstance(value.get("helpdesk_ticket"), dict):
            return children(record, [_from_v1(value["helpdesk_ticket"])], "helpdesk_ticket")
        if "id" in value:
            return None
        for name in ("results", "tickets", "conversations"):
            if isinstance(value.get(name), list):
                return children(record, value[name], name, group=str(record.location))
        return None

    def message_key(self, record: Record) -> str | None:
        if not _is_entry(record.value):
            return None
        return id_of(record.value.get("ticket_id")) or str(record.context.get("group", ""))

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        value = record.value
        if "ratings" in value and "ticket_id" in value:
            raise Unusable("a Freshdesk satisfaction rating without its ticket's messages")
        if not value.keys() & {"description", "description_text", "subject", "conversations", "requester_id"}:
            raise Unusable(f"not a Freshdesk ticket or conversation (keys: {', '.join(sorted(value)[:8])})")
        return self._ticket(value)

    def _ticket(self, value: dict[str, Any]) -> Conversation:
        source = _code(value.get("source"))
        known = _SOURCES.get(source or 0)
        source_name = known[0] if known else None
        channel: Channel = known[1] if known else "email"
        requester = id_of(value.get("requester_id"))
        requester_obj = value.get("requester") if isinstance(value.get("requester"), dict) else None
        messages = []
        metadata: dict[str, Any] = {}
        if text := text_of(value, "description_text", "description"):
            role: SpeakerRole = "agent" if source == _OUTBOUND_EMAIL else "customer"
            speaker = person_name(requester_obj) if role == "customer" else None
            messages.append(Message(role, text, value.get("created_at"), speaker))
        entries = value.get("conversations")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                messages.append(_entry_message(entry, requester))
        if not messages and (text := text_of(value, "subject")):
            messages.append(Message("customer", text, value.get("created_at"), person_name(requester_obj)))
            metadata["text_from"] = "subject"
        elif "conversations" not in value:  # listed or viewed without ?include=conversations
            metadata["text_from"] = "description"
        status, priority = _code(value.get("status")), _code(value.get("priority"))
        return make_conversation(
            self.tool,
            id_of(value.get("id")),
            channel,
            messages,
            "Freshdesk ticket has no description, conversation or subject text",
            started_at=value.get("created_at"),
            subject=text_of(value, "subject") or None,
            customer_id=requester,
            agent_id=id_of(value.get("responder_id")),
            team_id=id_of(value.get("group_id")),
            account_id=id_of(value.get("company_id")),
            survey=rating_csat(value.get("satisfaction_rating")),
            metadata=compact(
                {
                    **metadata,
                    "status": _STATUS.get(status or 0, status),
                    "priority": _PRIORITY.get(priority or 0, priority),
                    "source": source_name or source,
                    "type": value.get("type"),
                    "tags": names_of(value.get("tags")),
                    "product_id": id_of(value.get("product_id")),
                    "custom_fields": compact(value["custom_fields"])
                    if isinstance(value.get("custom_fields"), dict)
                    else None,
                }
            ),
        )

    def ticket_key(self, record: Record) -> str | None:
        return id_of(record.value.get("id")) if not _is_entry(record.value) else None

    def combine(self, ticket: Record, records: list[Record], ctx: ReadContext) -> Item:
        value = {**ticket.value, "conversations": [*items(ticket.value, "conversations"), *(r.value for r in records)]}
        return self.whole(Record(value, ticket.location, ticket.context), ctx)

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        entries = [r.value for r in records]
        ticket_id = next((t for e in entries if (t := id_of(e.get("ticket_id")))), None)
        return make_conversation(
            self.tool,
            ticket_id or ticket_id_from_name(ctx.name),
            "email",
            [_entry_message(e, None) for e in entries],
            "Freshdesk conversation entries have no text",
        )


def _from_v1(ticket: dict[str, Any]) -> dict[str, Any]:
    """A legacy API v1 ticket (``{"helpdesk_ticket": {..., "notes": [{"note": {...}}]}}``) in v2's
    shape: v1's ``display_id`` is v2's ticket ``id``, its notes are v2's conversations."""
    notes = [n.get("note", n) for n in items(ticket, "notes") if isinstance(n, dict)]
    return {**ticket, "id": ticket.get("display_id") or ticket.get("id"), "conversations": notes}


def _entry_message(entry: dict[str, Any], requester: str | None) -> Message:
    user = id_of(entry.get("user_id"))
    role: SpeakerRole
    if entry.get("private") is True:
        role = "system"
    elif isinstance(entry.get("incoming"), bool):
        role = "customer" if entry["incoming"] else "agent"
    else:
        role = "customer" if requester is not None and user == requester else "agent"
    return Message(
        role=role,
        text=text_of(entry, "body_text", "body"),
        timestamp=entry.get("created_at"),
        key=f"freshdesk-conversation-{entry['id']}" if id_of(entry.get("id")) else None,
    )

"""Zendesk Support tickets and Zendesk Chat (formerly Zopim) chats.

Zendesk Support (format ``zendesk-json``), shapes from
https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/,
https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/,
https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/ and
https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/:

* tickets: ``{"tickets": [...]}`` (list, incremental export, with side-loaded ``users``/``brands``),
  ``{"requests": [...]}`` (the end-user Requests API),
  ``{"ticket": {...}}``, search ``{"results": [...]}``, a bare array, or JSON Lines (the account's full
  JSON export, whose tickets carry their ``comments``). A ticket without comments gives its
  ``description`` (its first comment) as the requester's turn, marked ``metadata.text_from =
  "description"`` (``"subject"`` when only the subject has text);
* one ticket's messages without the ticket: ``{"comments": [...]}``, ``{"audits": [...]}`` (``Comment``
  and ``VoiceComment`` events, ``SatisfactionRating`` events), incremental ``ticket_events`` with
  ``child_events``, or comment records carrying ``ticket_id`` (Singer/Airbyte ``ticket_comments``).
  The ticket id comes from ``ticket_id``, the page's ``next_page`` URL, or the file name.

Mapping: id ``zendesk-<ticket id>``; a comment's author is the customer when side-loaded users say
``end-user``, or when it is the requester (``requester_id``, else the first comment's author, as
Zendesk makes the requester author of the first comment); agents/admins and other authors are the
agent; private comments (``public: false``) are internal notes, system turns. ``via.channel`` sets the
channel: chat/messaging/SMS/WhatsApp → chat, twitter/facebook/instagram → social, voice → call (the
turns are the text Zendesk keeps of the call: transcription and notes, without timings), anything
else (email, web form, API, mobile) → email. ``satisfaction_rating.score`` good → CSAT 5, bad → 1.
``requester_id`` → customer_id, ``assignee_id`` → agent_id, ``group_id`` → team_id,
``organization_id`` → account_id, side-loaded brand name → brand; tags, priority, status, type,
brand_id and custom fields go to metadata.

Zendesk Chat (format ``zendesk-chat-json``), shape from
https://developer.zendesk.com/api-reference/live-chat/chat-api/chats/: ``{"chats": [...]}``, the
incremental export, ``{"docs": {id: chat}}``, or chats one per line. ``type: "chat"`` with
``history`` events: ``chat.msg`` events by ``nick`` ``visitor…`` are the customer, ``agent:trigger``
the bot, other ``agent:…`` the agent; ``rating`` good/bad → CSAT 5/1, its ``comment`` to metadata;
``department_name`` → team_id; ``visitor.id`` → customer_id. ``type: "offline_msg"`` (a message left
while no agent was online) is one customer turn. Id ``zendesk-chat-<chat id>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.readers.helpdesk.base import (
    Message,
    Record,
    ToolReader,
    Unusable,
    children,
    compact,
    good_bad_csat,
    id_of,
    items,
    make_conversation,
    names_of,
    obj,
    read_tool,
    text_of,
    ticket_id_from_name,
)
from vocmine.ingest.records import Item, ReadContext, parse_timestamp
from vocmine.schema import Channel, Conversation, SpeakerRole

_TICKET_URL = re.compile(r"/tickets/(\d+)(?:/|\.json|$)")
_BODY_FIELDS = ("plain_body", "body", "html_body")
_USER_ROLES: dict[str, SpeakerRole] = {"end-user": "customer", "agent": "agent", "admin": "agent"}
_CHANNELS: dict[str, Channel] = {
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "mobile_sdk": "chat",
    "sms": "chat",
    "whatsapp": "chat",
    "line": "chat",
    "wechat": "chat",
    "telegram": "chat",
    "facebook_messenger": "chat",
    "apple_business_chat": "chat",
    "twitter": "social",
    "twitter_dm": "social",
    "twitter_favorite": "social",
    "facebook": "social",
    "facebook_post": "social",
    "instagram": "social",
    "instagram_dm": "social",
    "voice": "call",
    "phone": "call",
}


def read_zendesk(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(ZendeskSupport(), stream, ctx)


def read_zendesk_chat(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(ZendeskChat(), stream, ctx)


def via_channel(via: object) -> Channel:
    """Our channel for a Zendesk ``via`` object (default e-mail: tickets are written threads)."""
    name = via.get("channel") if isinstance(via, dict) else via
    if not isinstance(name, str):
        return "email"
    name = name.strip().lower()
    if name.startswith("sunshine_conversations"):
        return "chat"
    return _CHANNELS.get(name, "email")


# ---------------------------------------------------------------- Zendesk Support


def _is_ticket(value: dict[str, Any]) -> bool:
    """A ticket, not a comment, audit or a page of comments (which has no ``id`` of its own)."""
    return "requester_id" in value or (
        "id" in value and "author_id" not in value and bool(value.keys() & {"description", "comments", "subject"})
    )


def _is_comment(value: dict[str, Any]) -> bool:
    return "author_id" in value and any(name in value for name in _BODY_FIELDS)


def _is_user(value: dict[str, Any]) -> bool:
    return value.get("role") in _USER_ROLES and "requester_id" not in value and "author_id" not in value


def _users(values: object) -> dict[str, dict[str, Any]]:
    if not isinstance(values, list):
        return {}
    return {uid: u for u in values if isinstance(u, dict) and (uid := id_of(u.get("id")))}


def _brands(values: object) -> dict[str, str]:
    if not isinstance(values, list):
        return {}
    return {
        bid: str(b["name"]) for b in values if isinstance(b, dict) and (bid := id_of(b.get("id"))) and b.get("name")
    }


class ZendeskSupport(ToolReader):
    tool = "zendesk"
    what = "Zendesk ticket"

    def __init__(self) -> None:
        # Users read as records of this input (a Singer/Airbyte "users" stream, a users export):
        # they tell agents from end-users in the tickets that follow.
        self.users: dict[str, dict[str, Any]] = {}

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        side = compact({"users": _users(value.get("users")), "brands": _brands(value.get("brands"))})
        if isinstance(value.get("ticket"), dict) and "id" not in value:
            ticket = value["ticket"]
            if isinstance(value.get("comments"), list) and "comments" not in ticket:  # saved side by side
                ticket = {**ticket, "comments": value["comments"]}
            return children(record, [ticket], "ticket", **side)
        for name in ("tickets", "requests", "results", "audits", "ticket_events"):
            if isinstance(value.get(name), list):
                return children(record, value[name], name, **side)
        if isinstance(value.get("comments"), list) and not _is_ticket(value):
            # One ticket's comments: the page's own URLs may name the ticket.
            urls = " ".join(str(value.get(k) or "") for k in ("next_page", "previous_page", "url"))
            found = _TICKET_URL.search(urls)
            hint = found.group(1) if found else None
            return children(record, value["comments"], "comments", group=str(record.location), ticket_hint=hint, **side)
        return None

    def message_key(self, record: Record) -> str | None:
        value = record.value
        if _is_ticket(value) or _is_user(value):
            return None
        if not (_is_comment(value) or isinstance(value.get("events"), list) or "child_events" in value):
            return None
        return id_of(value.get("ticket_id")) or str(record.context.get("group", ""))

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        value = record.value
        if _is_user(value):
            if uid := id_of(value.get("id")):
                self.users[uid] = value
            raise Unusable("a Zendesk user record, not a ticket (used to tell agents from end-users)")
        if isinstance(value.get("users"), list) and "id" not in value:
            # A users page (GET /api/v2/users.json) read before the tickets it explains.
            self.users.update(_users(value["users"]))
            raise Unusable(
                f"a page of {len(value['users'])} Zendesk users, not tickets (used to tell agents from end-users)"
            )
        if not _is_ticket(value):
            if value.get("result_type") not in (None, "ticket"):
                raise Unusable(f"a Zendesk search result of type {value.get('result_type')!r}, not a ticket")
            raise Unusable(f"not a Zendesk ticket, comment or audit (keys: {', '.join(sorted(value)[:8])})")
        return self._ticket(value, record, ctx)

    def _ticket(self, value: dict[str, Any], record: Record, ctx: ReadContext) -> Conversation:
        users = {**self.users, **record.context.get("users", {})}
        requester = id_of(value.get("requester_id"))
        comments = value.get("comments")
        metadata: dict[str, Any] = {}
        if isinstance(comments, list) and comments:
            messages = _comment_messages(comments, users, requester)
        elif text := text_of(value, "description"):
            # The ticket APIs give only the first comment: mark the conversation as partial.
            messages = [Message("customer", text, value.get("created_at"), _name(users, requester))]
            metadata["text_from"] = "description"
        elif text := text_of(value, "subject", "raw_subject"):
            messages = [Message("customer", text, value.get("created_at"), _name(users, requester))]
            metadata["text_from"] = "subject"
        else:
            messages = []
        rating = obj(value, "satisfaction_rating")
        brand_id = id_of(value.get("brand_id"))
        via = value.get("via")
        return make_conversation(
            self.tool,
            id_of(value.get("id")),
            via_channel(via),
            messages,
            "Zendesk ticket has no comment, description or subject text",
            started_at=value.get("created_at"),
            subject=text_of(value, "subject", "raw_subject") or None,
            customer_id=requester,
            agent_id=id_of(value.get("assignee_id")),
            team_id=id_of(value.get("group_id")),
            account_id=id_of(value.get("organization_id")),
            brand=record.context.get("brands", {}).get(brand_id) if brand_id else None,
            survey=good_bad_csat(rating.get("score")),
            metadata=compact(
                {
                    **metadata,
                    "tags": names_of(value.get("tags")),
                    "priority": value.get("priority"),
                    "status": value.get("status"),
                    "type": value.get("type"),
                    "brand_id": brand_id,
                    "via_channel": via.get("channel") if isinstance(via, dict) else None,
                    "custom_fields": _custom_fields(value.get("custom_fields")),
                    "satisfaction_comment": rating.get("comment"),
                    "satisfaction_reason": rating.get("reason"),
                }
            ),
        )

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        users = dict(self.users)
        for record in records:
            users.update(record.context.get("users", {}))
        comments, rating = _gather(records)
        ticket_id = next(
            (t for r in records if (t := id_of(r.value.get("ticket_id")) or r.context.get("ticket_hint"))), None
        )
        ticket_id = ticket_id or ticket_id_from_name(ctx.name)
        if not comments:
            raise Unusable(
                f"the audits/events of Zendesk ticket {ticket_id or '?'} hold no comment, only field changes"
            )
        return make_conversation(
            self.tool,
            ticket_id,
            via_channel(next((c.get("via") for c in comments if c.get("via")), None)),
            _comment_messages(comments, users, None),
            "Zendesk comments have no text",
            survey=good_bad_csat(rating.get("score")),
            metadata=compact({"satisfaction_comment": rating.get("body") or rating.get("comment")}),
        )

    def ticket_key(self, record: Record) -> str | None:
        return id_of(record.value.get("id")) if _is_ticket(record.value) else None

    def combine(self, ticket: Record, records: list[Record], ctx: ReadContext) -> Item:
        comments, rating = _gather(records)
        value = dict(ticket.value)
        if comments and not value.get("comments"):
            value["comments"] = comments
        if rating and not isinstance(value.get("satisfaction_rating"), dict):
            value["satisfaction_rating"] = {"score": rating.get("score"), "comment": rating.get("body")}
        return self.whole(Record(value, ticket.location, ticket.context), ctx)


def _gather(records: list[Record]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The comments of comment, audit and ticket-event records, and the last rating event."""
    comments: list[dict[str, Any]] = []
    rating: dict[str, Any] = {}
    for record in records:
        value = record.value
        if isinstance(value.get("events"), list) or isinstance(value.get("child_events"), list):
            found, rated = _event_comments(value)
            comments.extend(found)
            rating = rated or rating
        else:
            comments.append(value)
    return comments, rating


def _event_comments(value: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The comments of an audit (``events``) or incremental ticket event (``child_events``), with the
    audit's time, author and channel where the event does not repeat them; and a rating event."""
    comments = []
    rating: dict[str, Any] = {}
    for event in value.get("events") or value.get("child_events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("type") or event.get("event_type")
        if kind in ("Comment", "VoiceComment"):
            comments.append(
                {
                    **event,
                    "created_at": event.get("created_at") or value.get("created_at"),
                    "author_id": event.get("author_id") or value.get("author_id") or value.get("updater_id"),
                    "via": event.get("via") or value.get("via"),
                }
            )
        elif kind == "SatisfactionRating":
            rating = event
    return comments, rating


def _comment_messages(comments: list[Any], users: dict[str, dict[str, Any]], requester: str | None) -> list[Message]:
    ordered = [c for c in comments if isinstance(c, dict)]
    if requester is None:
        # Zendesk makes the requester the author of a ticket's first comment.
        stamps = [parse_timestamp(c.get("created_at")) for c in ordered]
        first = ordered[0] if ordered else {}
        if stamps and all(s is not None for s in stamps):
            first = ordered[stamps.index(min(s for s in stamps if s is not None))]
        requester = id_of(first.get("author_id"))
    messages = []
    for comment in ordered:
        author = id_of(comment.get("author_id"))
        text = text_of(comment, *_BODY_FIELDS, "value")  # "value": comments of XML exports turned JSON
        data = comment.get("data")
        if not text and isinstance(data, dict):  # a voice comment keeps its words in data
            text = text_of(data, "transcription_text")
        messages.append(
            Message(
                role=_comment_role(comment, author, users, requester),
                text=text,
                timestamp=comment.get("created_at"),
                speaker=_name(users, author),
                key=f"zendesk-comment-{comment['id']}" if id_of(comment.get("id")) else None,
            )
        )
    return messages


def _comment_role(
    comment: dict[str, Any], author: str | None, users: dict[str, dict[str, Any]], requester: str | None
) -> SpeakerRole:
    if comment.get("public") is False:
        return "system"
    user = users.get(author or "")
    if user and user.get("role") in _USER_ROLES:
        return _USER_ROLES[user["role"]]
    if author is None or author == requester:
        return "customer"
    return "agent"


def _name(users: dict[str, dict[str, Any]], user_id: str | None) -> str | None:
    user = users.get(user_id or "")
    name = user.get("name") if user else None
    return str(name) if name else None


def _custom_fields(values: object) -> dict[str, Any]:
    """``[{"id": 360001, "value": "refund"}]`` as ``{"360001": "refund"}``, empty values left out."""
    if isinstance(values, dict):
        return compact(values)
    if not isinstance(values, list):
        return {}
    return compact(
        {str(f.get("id")): f.get("value") for f in values if isinstance(f, dict) and f.get("id") is not None}
    )


# ---------------------------------------------------------------- Zendesk Chat


class ZendeskChat(ToolReader):
    tool = "zendesk-chat"
    what = "Zendesk Chat chat"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if "type" in value and "id" in value:
            return None
        for name in ("chats", "results", "docs"):
            if isinstance(value.get(name), list | dict):
                return children(record, value[name], name)
        return None

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        value = record.value
        kind = value.get("type")
        if kind == "offline_msg":
            return self._offline(value)
        if kind != "chat" and "history" not in value:
            raise Unusable(f"not a Zendesk Chat chat or offline message (type {kind!r})")
        if not isinstance(value.get("history"), list):
            raise Unusable("Zendesk Chat chat without its 'history' (a search result? fetch GET /api/v2/chats/{id})")
        return self._chat(value)

    def _chat(self, value: dict[str, Any]) -> Conversation:
        agents = {str(n) for n in value.get("agent_names") or [] if n}
        messages = []
        rating, comment = value.get("rating"), value.get("comment")
        for event in value["history"]:
            if not isinstance(event, dict):
                continue
            kind = event.get("type")
            if kind == "chat.msg":
                role = _chat_role(event, agents)
                name = event.get("name") if isinstance(event.get("name"), str) else None
                messages.append(Message(role, text_of(event, "msg"), event.get("timestamp"), name))
            elif kind == "chat.rating" and event.get("new_rating"):
                rating = rating or event.get("new_rating")
            elif kind == "chat.comment" and event.get("new_comment"):
                comment = comment or event.get("new_comment")
        visitor = obj(value, "visitor")
        session = obj(value, "session")
        agent_ids = items(value, "agent_ids")
        return make_conversation(
            self.tool,
            id_of(value.get("id")),
            "chat",
            messages,
            "Zendesk Chat chat has no chat.msg text",
            started_at=session.get("start_date") or value.get("timestamp"),
            ended_at=session.get("end_date") or value.get("end_timestamp"),
            customer_id=id_of(visitor.get("id")) or visitor.get("email") or None,
            agent_id=id_of(agent_ids[0]) if agent_ids else None,
            team_id=value.get("department_name") or id_of(value.get("department_id")),
            survey=good_bad_csat(rating),
            metadata=compact(
                {
                    "tags": names_of(value.get("tags")),
                    "rating_comment": comment,
                    "missed": value.get("missed"),
                    "duration_s": value.get("duration"),
                    "zendesk_ticket_id": id_of(value.get("zendesk_ticket_id")),
                    "started_by": value.get("started_by"),
                }
            ),
        )

    def _offline(self, value: dict[str, Any]) -> Conversation:
        visitor = obj(value, "visitor")
        name = visitor.get("name") if isinstance(visitor.get("name"), str) else None
        return make_conversation(
            self.tool,
            id_of(value.get("id")),
            "chat",
            [Message("customer", text_of(value, "message"), value.get("timestamp"), name)],
            "Zendesk Chat offline message has no text",
            customer_id=id_of(visitor.get("id")) or visitor.get("email") or None,
            team_id=value.get("department_name") or id_of(value.get("department_id")),
            metadata=compact({"offline_message": True, "zendesk_ticket_id": id_of(value.get("zendesk_ticket_id"))}),
        )


def _chat_role(event: dict[str, Any], agents: set[str]) -> SpeakerRole:
    nick = str(event.get("nick") or "").lower()
    sender = str(event.get("sender_type") or "").lower()
    if nick.startswith("visitor") or sender == "visitor":
        return "customer"
    if nick in ("agent:trigger", "agent:bot") or sender in ("trigger", "bot", "chatbot"):
        return "bot"
    if nick.startswith("agent") or sender == "agent" or event.get("name") in agents:
        return "agent"
    return "customer"

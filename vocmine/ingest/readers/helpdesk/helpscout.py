"""Help Scout Mailbox API 2.0 conversations and threads (format ``helpscout-json``).

Shapes from https://developer.helpscout.com/mailbox-api/endpoints/conversations/list/ (``GET
/v2/conversations?embed=threads``: ``{"_embedded": {"conversations": [...]}, "page": ...}``, each
conversation with ``_embedded.threads``), ``…/conversations/get/`` (one conversation) and
``…/conversations/threads/list/`` (``GET /v2/conversations/{id}/threads``: ``{"_embedded": {"threads":
[...]}, "_links": {"self": …/conversations/{id}/threads}}``; the conversation id comes from that link,
else from the file name). Legacy API 1.0 pages (``{"items": [...]}``, ``{"item": {...}}`` with a
``threads`` list) are read the same way.

Mapping: id ``helpscout-<conversation id>``. Thread ``type``: ``customer`` → customer, ``message``
(a reply) → agent, ``note`` → system; ``chat``, ``phone`` and forwarded threads by ``createdBy.type``
(customer → customer, user → agent, system_user → bot); ``lineitem`` threads (status changes, workflow
runs) carry no message and are left out. Threads are put in time order (the API lists them newest
first). Conversation ``type`` email/chat/phone → channel email/chat/call; ``primaryCustomer.id`` →
customer_id, ``assignee.id`` → agent_id; number, status, state, mailbox id, tags and custom fields
(``{name: text}``) go to metadata.
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
from vocmine.schema import Channel, Conversation, SpeakerRole

_CONVERSATION_URL = re.compile(r"/conversations/(\d+)")
_CHANNELS: dict[str, Channel] = {"email": "email", "chat": "chat", "phone": "call"}
_CREATOR_ROLES: dict[str, SpeakerRole] = {"customer": "customer", "user": "agent", "team": "agent"}
_CONVERSATION_KEYS = {"mailboxId", "number", "primaryCustomer", "threads", "mailbox", "threadCount"}


def read_helpscout(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(HelpScout(), stream, ctx)


def _embedded(value: dict[str, Any]) -> dict[str, Any]:
    found = value.get("_embedded")
    return found if isinstance(found, dict) else {}


def _is_conversation(value: dict[str, Any]) -> bool:
    return bool(value.keys() & _CONVERSATION_KEYS) or "threads" in _embedded(value)


def _self_link(value: dict[str, Any]) -> str:
    links = obj(value, "_links")
    link = links.get("self")
    return str(link.get("href") if isinstance(link, dict) else link or "")


class HelpScout(ToolReader):
    tool = "helpscout"
    what = "Help Scout conversation"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if "id" in value:
            return None
        embedded = _embedded(value)
        if isinstance(embedded.get("conversations"), list):
            return children(record, embedded["conversations"], "conversations")
        if isinstance(embedded.get("threads"), list):
            found = _CONVERSATION_URL.search(_self_link(value))
            hint = found.group(1) if found else None
            return children(record, embedded["threads"], "threads", group=str(record.location), conversation=hint)
        if isinstance(value.get("items"), list):
            return children(record, value["items"], "items")
        if isinstance(value.get("item"), dict):
            return children(record, [value["item"]], "item")
        return None

    def message_key(self, record: Record) -> str | None:
        value = record.value
        if _is_conversation(value) or not value.keys() & {"createdBy", "body"}:
            return None
        return str(record.context.get("group", ""))

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        if not _is_conversation(record.value):
            raise Unusable(f"not a Help Scout conversation or thread (keys: {', '.join(sorted(record.value)[:8])})")
        return self._conversation(record.value)

    def _conversation(self, value: dict[str, Any]) -> Conversation:
        threads = _embedded(value).get("threads")
        if not isinstance(threads, list):
            threads = items(value, "threads")
        messages = [m for t in threads if isinstance(t, dict) and (m := _thread_message(t))]
        metadata: dict[str, Any] = {}
        customer = value.get("primaryCustomer") or value.get("customer")
        if not messages and (text := text_of(value, "subject", "preview")):
            messages.append(Message("customer", text, value.get("createdAt"), person_name(customer)))
            metadata["text_from"] = "subject"
        source = obj(value, "source")
        mailbox = value.get("mailboxId") or value.get("mailbox")
        return make_conversation(
            "helpscout",
            id_of(value.get("id")),
            _CHANNELS.get(str(value.get("type") or "").lower(), "email"),
            messages,
            "Help Scout conversation has no thread text",
            started_at=value.get("createdAt"),
            ended_at=value.get("closedAt"),
            subject=text_of(value, "subject") or None,
            customer_id=id_of(customer),
            agent_id=id_of(value.get("assignee") or value.get("owner")),
            metadata=compact(
                {
                    **metadata,
                    "number": value.get("number"),
                    "status": value.get("status"),
                    "state": value.get("state"),
                    "mailbox_id": id_of(mailbox),
                    "source": source.get("type"),
                    "tags": names_of(value.get("tags"), key="tag"),
                    "custom_fields": _custom_fields(value.get("customFields")),
                }
            ),
        )

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        conversation_id = records[0].context.get("conversation") or ticket_id_from_name(ctx.name)
        messages = [m for r in records if (m := _thread_message(r.value))]
        types = {str(r.value.get("type")) for r in records}
        channel: Channel = "chat" if "chat" in types else "call" if "phone" in types else "email"
        return make_conversation("helpscout", conversation_id, channel, messages, "Help Scout threads have no text")


def _thread_message(thread: dict[str, Any]) -> Message | None:
    kind = str(thread.get("type") or "").lower()
    if kind == "lineitem":
        return None
    creator = obj(thread, "createdBy")
    creator_type = str(creator.get("type") or "").lower()
    role: SpeakerRole
    if kind == "note":
        role = "system"
    elif kind == "customer":
        role = "customer"
    elif creator_type == "system_user":
        role = "bot"
    elif kind in ("message", "reply"):
        role = "agent"
    else:
        role = _CREATOR_ROLES.get(creator_type, "agent")
    return Message(
        role=role,
        text=text_of(thread, "body"),
        timestamp=thread.get("createdAt"),
        speaker=person_name(creator),
        key=f"helpscout-thread-{thread['id']}" if id_of(thread.get("id")) else None,
    )


def _custom_fields(values: object) -> dict[str, Any]:
    if not isinstance(values, list):
        return {}
    return compact(
        {
            str(f.get("name") or f.get("id")): f.get("text") or f.get("value")
            for f in values
            if isinstance(f, dict) and (f.get("name") or f.get("id"))
        }
    )

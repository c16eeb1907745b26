"""Front conversation messages (format ``front-json``).

Shapes from https://dev.frontapp.com/reference/messages-1 (the Message resource) and the Core API's
"List conversation messages" (``GET /conversations/{id}/messages``:
``{"_pagination": ..., "_links": {"self": …/conversations/cnv_…/messages}, "_results": [...]}``), and
https://dev.frontapp.com/reference/conversations for conversation objects. Also a bare array or
messages one per line.

A message names its conversation in ``_links.related.conversation`` (else the page's ``self`` link
names it); consecutive messages of one conversation make one conversation, id ``front-<cnv_…>``.
``is_inbound: true`` → customer (speaker: the ``from`` recipient), ``false`` → agent (speaker: the
``author`` teammate). Text: ``text``, else the HTML ``body``, else ``blurb``; time ``created_at``
(epoch seconds). The first message's ``type`` gives the channel: email → email; front_chat, sms,
whatsapp, smooch, intercom, custom, googleplay → chat; tweet, tweet_dm, facebook → social; call →
call. The customer's handle (the ``from`` of inbound messages) is customer_id. A conversation object
without messages (``GET /conversations``) keeps its subject as the customer's text, marked
``metadata.text_from = "subject"``; assignee → agent_id, status and tags go to metadata.
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
    make_conversation,
    names_of,
    obj,
    person_name,
    read_tool,
    text_of,
    ticket_id_from_name,
)
from vocmine.ingest.records import Item, ReadContext
from vocmine.schema import Channel

_CONVERSATION_URL = re.compile(r"/conversations/(cnv_[A-Za-z0-9]+)")
_CHANNELS: dict[str, Channel] = {
    "email": "email",
    "front_chat": "chat",
    "sms": "chat",
    "whatsapp": "chat",
    "smooch": "chat",
    "intercom": "chat",
    "custom": "chat",
    "googleplay": "chat",
    "tweet": "social",
    "tweet_dm": "social",
    "facebook": "social",
    "call": "call",
}


def read_front(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(Front(), stream, ctx)


def _link(value: dict[str, Any], *path: str) -> str:
    found: Any = value.get("_links")
    for name in path:
        found = found.get(name) if isinstance(found, dict) else None
    return found if isinstance(found, str) else ""


def _conversation_in(url: str) -> str | None:
    found = _CONVERSATION_URL.search(url)
    return found.group(1) if found else None


def _is_message(value: dict[str, Any]) -> bool:
    return "is_inbound" in value or str(value.get("id", "")).startswith("msg_")


class Front(ToolReader):
    tool = "front"
    what = "Front message"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if "id" not in value and isinstance(value.get("_results"), list):
            hint = _conversation_in(_link(value, "self"))
            return children(record, value["_results"], "_results", group=str(record.location), conversation=hint)
        return None

    def message_key(self, record: Record) -> str | None:
        value = record.value
        if not _is_message(value):
            return None
        found = _conversation_in(_link(value, "related", "conversation"))
        return found or record.context.get("conversation") or str(record.context.get("group", ""))

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        value = record.value
        if not str(value.get("id", "")).startswith("cnv_") and "recipient" not in value:
            raise Unusable(f"not a Front message or conversation (keys: {', '.join(sorted(value)[:8])})")
        recipient = obj(value, "recipient")
        text = text_of(value, "subject")
        if not text:
            raise Unusable("a Front conversation without messages or subject: export its messages instead")
        return make_conversation(
            "front",
            id_of(value.get("id")),
            "email",
            [Message("customer", text, value.get("created_at"), recipient.get("name"))],
            "Front conversation has no subject",
            started_at=value.get("created_at"),
            subject=text,
            customer_id=recipient.get("handle") or None,
            agent_id=id_of(value.get("assignee")),
            metadata=compact(
                {"text_from": "subject", "status": value.get("status"), "tags": names_of(value.get("tags"))}
            ),
        )

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        values = [r.value for r in records]
        conversation_id = key if key.startswith("cnv_") else ticket_id_from_name(ctx.name)
        messages = []
        customer = None
        for value in values:
            sender = _sender(value)
            if value.get("is_inbound") is True:
                customer = customer or (sender.get("handle") if sender else None)
                role, speaker = "customer", (sender or {}).get("name") or None
            else:
                role, speaker = "agent", person_name(value.get("author"))
            messages.append(
                Message(
                    role=role,  # type: ignore[arg-type]  # the two literals above
                    text=text_of(value, "text", "body", "blurb"),
                    timestamp=value.get("created_at"),
                    speaker=speaker,
                    key=f"front-{value['id']}" if id_of(value.get("id")) else None,
                )
            )
        return make_conversation(
            "front",
            conversation_id,
            _CHANNELS.get(str(values[0].get("type") or ""), "email"),
            messages,
            f"the messages of Front conversation {conversation_id or '?'} have no text, body or blurb",
            subject=next((s for v in values if (s := text_of(v, "subject"))), None),
            customer_id=customer,
            metadata=compact({"message_types": sorted({str(v.get("type")) for v in values if v.get("type")})}),
        )


def _sender(message: dict[str, Any]) -> dict[str, Any] | None:
    recipients = message.get("recipients")
    for recipient in recipients if isinstance(recipients, list) else []:
        if isinstance(recipient, dict) and recipient.get("role") == "from":
            return recipient
    return None

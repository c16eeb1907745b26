"""Salesforce Service Cloud cases with their e-mails and comments (format ``salesforce-json``).

Shapes from the REST API query resource
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm:
``{"totalSize": n, "done": true, "records": [{"attributes": {"type": "Case", "url": …}, …}]}``, with
parent-to-child subqueries as nested ``{"records": [...]}``) and the object reference for Case,
EmailMessage and CaseComment
(https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_case.htm,
…/sforce_api_objects_emailmessage.htm, …/sforce_api_objects_casecomment.htm). A bare array of
records or records one per line are read too.

Mapping: id ``salesforce-<Case Id>`` (``CaseNumber`` in metadata). A case with its ``EmailMessages``
(``Incoming: true`` → customer, ``false`` → agent; ``TextBody``, else ``HtmlBody``; ``MessageDate``)
and ``CaseComments`` (``IsPublished: false`` → system, an internal comment; published → agent, as
agents write most comments – a portal user's comment cannot be told apart). ``Description`` is the
customer's first turn only when the case has no e-mails (Email-to-Case copies the first e-mail into
it). EmailMessage or CaseComment records queried without their case are gathered by ``ParentId``
(the case Id), so they get the case's id. ``Origin``: Email, Web → email; Phone → call; Chat,
Messaging → chat; Facebook, Twitter, Social → social. ``ContactId`` (else ``SuppliedEmail``) →
customer_id, ``AccountId`` → account_id, ``OwnerId`` → agent_id; status, priority, type, reason,
origin go to metadata.
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
    make_conversation,
    read_tool,
    text_of,
)
from vocmine.ingest.records import Item, ReadContext
from vocmine.schema import Channel, Conversation, SpeakerRole

_ORIGINS: dict[str, Channel] = {
    "email": "email",
    "web": "email",
    "phone": "call",
    "chat": "chat",
    "messaging": "chat",
    "facebook": "social",
    "twitter": "social",
    "social": "social",
}


def read_salesforce(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    return read_tool(Salesforce(), stream, ctx)


def sobject_type(value: dict[str, Any]) -> str | None:
    """The record's sObject type: ``attributes.type``, else guessed from its fields."""
    attributes = value.get("attributes")
    if isinstance(attributes, dict) and isinstance(attributes.get("type"), str):
        return attributes["type"]
    if "CaseNumber" in value or "Origin" in value:
        return "Case"
    if value.keys() & {"TextBody", "HtmlBody", "Incoming", "MessageDate"}:
        return "EmailMessage"
    if "CommentBody" in value:
        return "CaseComment"
    return None


def _subrecords(value: object) -> list[dict[str, Any]]:
    """A parent-to-child subquery result (``{"records": [...]}``) or a plain list."""
    if isinstance(value, dict):
        value = value.get("records")
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class Salesforce(ToolReader):
    tool = "salesforce"
    what = "Salesforce case"

    def expand(self, record: Record) -> list[Record] | None:
        value = record.value
        if "attributes" not in value:
            for name in ("records", "searchRecords"):
                if isinstance(value.get(name), list):
                    return children(record, value[name], name)
        return None

    def message_key(self, record: Record) -> str | None:
        if sobject_type(record.value) not in ("EmailMessage", "CaseComment"):
            return None
        return id_of(record.value.get("ParentId")) or ""

    def whole(self, record: Record, ctx: ReadContext) -> Item:
        kind = sobject_type(record.value)
        if kind != "Case":
            raise Unusable(f"a Salesforce {kind or 'record'} record, not a Case, EmailMessage or CaseComment")
        return self._case(record.value)

    def _case(self, value: dict[str, Any]) -> Conversation:
        emails = [_email(e) for e in _subrecords(value.get("EmailMessages"))]
        messages = list(emails)
        if not emails and (text := text_of(value, "Description")):
            messages.append(Message("customer", text, value.get("CreatedDate"), value.get("SuppliedName")))
        messages += [_comment(c) for c in _subrecords(value.get("CaseComments"))]
        metadata: dict[str, Any] = {}
        if not messages and (text := text_of(value, "Subject")):
            messages.append(Message("customer", text, value.get("CreatedDate")))
            metadata["text_from"] = "subject"
        origin = value.get("Origin")
        return make_conversation(
            "salesforce",
            id_of(value.get("Id")),
            _ORIGINS.get(str(origin or "").strip().lower(), "email"),
            messages,
            "Salesforce case has no e-mail, comment, description or subject text",
            started_at=value.get("CreatedDate"),
            ended_at=value.get("ClosedDate"),
            subject=text_of(value, "Subject") or None,
            customer_id=id_of(value.get("ContactId")) or value.get("SuppliedEmail") or None,
            account_id=id_of(value.get("AccountId")),
            agent_id=id_of(value.get("OwnerId")),
            metadata=compact(
                {
                    **metadata,
                    "case_number": value.get("CaseNumber"),
                    "status": value.get("Status"),
                    "priority": value.get("Priority"),
                    "type": value.get("Type"),
                    "reason": value.get("Reason"),
                    "origin": origin,
                }
            ),
        )

    def ticket_key(self, record: Record) -> str | None:
        return id_of(record.value.get("Id")) if sobject_type(record.value) == "Case" else None

    def combine(self, ticket: Record, records: list[Record], ctx: ReadContext) -> Item:
        value = dict(ticket.value)
        for name, kind in (("EmailMessages", "EmailMessage"), ("CaseComments", "CaseComment")):
            found = [r.value for r in records if sobject_type(r.value) == kind]
            value[name] = [*_subrecords(value.get(name)), *found]
        return self.whole(Record(value, ticket.location, ticket.context), ctx)

    def messages(self, key: str, records: list[Record], ctx: ReadContext) -> Item:
        values = [r.value for r in records]
        messages = [_email(v) if sobject_type(v) == "EmailMessage" else _comment(v) for v in values]
        if not key:
            raise Unusable("Salesforce EmailMessage/CaseComment without ParentId: its case is unknown")
        return make_conversation(
            "salesforce",
            key,
            "email",
            messages,
            "Salesforce e-mails/comments have no text",
            subject=next((s for v in values if (s := text_of(v, "Subject"))), None),
        )


def _email(value: dict[str, Any]) -> Message:
    role: SpeakerRole = "customer" if value.get("Incoming") is True else "agent"
    return Message(
        role=role,
        text=text_of(value, "TextBody", "HtmlBody"),
        timestamp=value.get("MessageDate") or value.get("CreatedDate"),
        speaker=value.get("FromName") if isinstance(value.get("FromName"), str) else None,
        key=f"salesforce-{value['Id']}" if id_of(value.get("Id")) else None,
    )


def _comment(value: dict[str, Any]) -> Message:
    role: SpeakerRole = "agent" if value.get("IsPublished") is True else "system"
    return Message(
        role=role,
        text=text_of(value, "CommentBody"),
        timestamp=value.get("CreatedDate"),
        key=f"salesforce-{value['Id']}" if id_of(value.get("Id")) else None,
    )

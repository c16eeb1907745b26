"""Help desks: the ticket exports of the tools support teams use, one format per tool.

========================  =============================================  ==============================
format                    tool and export                                 reader (shape, mapping)
========================  =============================================  ==============================
``zendesk-json``          Zendesk Support tickets (API, full JSON           ``zendesk`` module
                          export), comments, audits, ticket events
``zendesk-chat-json``     Zendesk Chat (Zopim) chats and offline messages  ``zendesk`` module
``freshdesk-json``        Freshdesk API v2 tickets and conversations       ``freshdesk`` module
``gorgias-json``          Gorgias tickets and messages                     ``gorgias`` module
``helpscout-json``        Help Scout Mailbox API 2.0 conversations/threads ``helpscout`` module
``front-json``            Front conversation messages                      ``front`` module
``salesforce-json``       Salesforce Service Cloud Case, EmailMessage,     ``salesforce`` module
                          CaseComment (REST query results)
========================  =============================================  ==============================

Each module's docstring gives the documentation its shape follows and the field mapping; what they
share (envelopes, grouping a ticket's messages, ids ``<tool>-<tool's id>``) is in ``base``.

Detection is by the keys only each tool's records have (the first 64 KiB), never by the file name:
generic keys the core formats use (``author_id``, ``message_id``, ``conversationId``) are never enough
on their own, so a help-desk file is not taken for tweets or e-mails, and no other tool's file is
taken for a help desk's.
"""

from __future__ import annotations

from vocmine.ingest.inputs.sniff import Format, Sniff
from vocmine.ingest.readers.helpdesk.freshdesk import read_freshdesk
from vocmine.ingest.readers.helpdesk.front import read_front
from vocmine.ingest.readers.helpdesk.gorgias import read_gorgias
from vocmine.ingest.readers.helpdesk.helpscout import read_helpscout
from vocmine.ingest.readers.helpdesk.salesforce import read_salesforce
from vocmine.ingest.readers.helpdesk.zendesk import read_zendesk, read_zendesk_chat

# Keys of a Zendesk Support ticket that no other tool's ticket has.
_ZENDESK_TICKET = {
    "submitter_id",
    "collaborator_ids",
    "has_incidents",
    "satisfaction_rating",
    "ticket_form_id",
    "allow_channelback",
    "email_cc_ids",
    "follower_ids",
    "sharing_agreement_ids",
    "is_public",
    "raw_subject",
    "via",
}
_FRESHDESK_TICKET = {"description_text", "fr_escalated", "responder_id", "fr_due_by", "email_config_id"}


def is_zendesk(sniff: Sniff) -> bool:
    keys = sniff.keys
    ticket = "requester_id" in keys and bool(keys & _ZENDESK_TICKET) and not keys & _FRESHDESK_TICKET
    comment = {"author_id", "public"} <= keys and bool(keys & {"plain_body", "html_body", "audit_id"})
    comment = comment or ({"author_id", "public", "body"} <= keys and bool(keys & {"ticket_id", "via"}))
    audit = {"events", "ticket_id", "author_id"} <= keys and '"Comment"' in sniff.text
    ticket_events = {"child_events", "ticket_id"} <= keys
    return ticket or comment or audit or ticket_events


def is_zendesk_chat(sniff: Sniff) -> bool:
    keys = sniff.keys
    if "visitor" not in keys:
        return False
    chat = "history" in keys and ("agent_names" in keys or "chat.msg" in sniff.text)
    offline = "offline_msg" in sniff.text and bool(keys & {"session", "webpath", "department_name"})
    return chat or offline


def is_freshdesk(sniff: Sniff) -> bool:
    keys = sniff.keys
    ticket = ("requester_id" in keys and bool(keys & _FRESHDESK_TICKET)) or "helpdesk_ticket" in keys
    conversation = {"incoming", "body_text"} <= keys and bool(keys & {"private", "ticket_id", "support_email"})
    return ticket or conversation


def is_gorgias(sniff: Sniff) -> bool:
    keys = sniff.keys
    return "from_agent" in keys and bool(
        keys & {"created_datetime", "sent_datetime", "stripped_text", "last_message_datetime"}
    )


def is_helpscout(sniff: Sniff) -> bool:
    keys = sniff.keys
    if "createdBy" not in keys:
        return False
    conversation = bool(keys & {"mailboxId", "primaryCustomer", "customerWaitingSince", "threadCount"})
    return conversation or {"_embedded", "threads"} <= keys


def is_front(sniff: Sniff) -> bool:
    keys = sniff.keys
    messages = "is_inbound" in keys and bool(keys & {"blurb", "recipients", "draft_mode"})
    conversations = {"_results", "_pagination"} <= keys and '"cnv_' in sniff.text
    return messages or conversations


def is_salesforce(sniff: Sniff) -> bool:
    keys = sniff.keys
    return bool(keys & {"attributes", "records", "Id"}) and bool(
        keys & {"CaseNumber", "TextBody", "HtmlBody", "CommentBody"}
    )


FORMATS: list[Format] = [
    Format(
        "zendesk-json",
        "email",
        read_zendesk,
        "Zendesk Support tickets, comments or audits (API JSON, full JSON export)",
        export="Zendesk Admin Center > Account > Tools > Reports > Export JSON; or the API: "
        "GET /api/v2/tickets.json, /api/v2/incremental/tickets/cursor.json, "
        "/api/v2/tickets/{id}/comments.json, /api/v2/tickets/{id}/audits.json (?include=users)",
        tickets=True,
        detect=is_zendesk,
    ),
    Format(
        "zendesk-chat-json",
        "chat",
        read_zendesk_chat,
        "Zendesk Chat (Zopim) chat transcripts and offline messages",
        export="Zendesk Chat API: GET /api/v2/chats, /api/v2/incremental/chats or /api/v2/chats?ids=…",
        tickets=True,
        detect=is_zendesk_chat,
    ),
    Format(
        "freshdesk-json",
        "email",
        read_freshdesk,
        "Freshdesk tickets and ticket conversations (API v2 JSON)",
        export="Freshdesk API v2: GET /api/v2/tickets/{id}?include=conversations,requester, "
        "/api/v2/tickets/{id}/conversations, /api/v2/tickets (?include=description)",
        tickets=True,
        detect=is_freshdesk,
    ),
    Format(
        "gorgias-json",
        "email",
        read_gorgias,
        "Gorgias tickets with messages (REST API JSON)",
        export="Gorgias REST API: GET /api/tickets/{id}, /api/tickets/{id}/messages or /api/messages",
        tickets=True,
        detect=is_gorgias,
    ),
    Format(
        "helpscout-json",
        "email",
        read_helpscout,
        "Help Scout conversations with threads (Mailbox API 2.0 JSON)",
        export="Help Scout Mailbox API 2.0: GET /v2/conversations?embed=threads, /v2/conversations/{id}/threads",
        tickets=True,
        detect=is_helpscout,
    ),
    Format(
        "front-json",
        "email",
        read_front,
        "Front conversation messages (Core API JSON)",
        export="Front Core API: GET /conversations/{id}/messages (one page or the pages' _results)",
        tickets=True,
        detect=is_front,
    ),
    Format(
        "salesforce-json",
        "email",
        read_salesforce,
        "Salesforce Service Cloud cases with EmailMessages/CaseComments (REST query JSON)",
        export="Salesforce REST API: GET /services/data/vXX.X/query?q=SELECT … FROM Case "
        "(with (SELECT … FROM EmailMessages), (SELECT … FROM CaseComments)), or EmailMessage/CaseComment",
        tickets=True,
        detect=is_salesforce,
    ),
]

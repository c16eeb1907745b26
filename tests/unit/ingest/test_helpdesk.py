"""Help-desk exports: Zendesk Support and Chat, Freshdesk, Gorgias, Help Scout, Front, Salesforce."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import FORMATS, detect_format
from vocmine.ingest.readers import helpdesk
from vocmine.ingest.readers.helpdesk.base import ticket_id_from_name
from vocmine.ingest.readers.helpdesk.freshdesk import rating_csat
from vocmine.ingest.readers.helpdesk.zendesk import via_channel
from vocmine.ingest.records import ReadContext, Rejection
from vocmine.schema import Conversation
from vocmine.settings import Settings

HELPDESK = DATA / "helpdesk"
SETTINGS = Settings()

SAMPLES = [
    ("zendesk_tickets.json", "zendesk-json"),
    ("zendesk_export.jsonl", "zendesk-json"),
    ("zendesk_ticket_1042_comments.json", "zendesk-json"),
    ("zendesk_audits.json", "zendesk-json"),
    ("zendesk_chat.json", "zendesk-chat-json"),
    ("freshdesk_tickets.json", "freshdesk-json"),
    ("freshdesk_tickets_with_conversations.jsonl", "freshdesk-json"),
    ("freshdesk_conversations.json", "freshdesk-json"),
    ("gorgias_tickets.jsonl", "gorgias-json"),
    ("gorgias_messages.json", "gorgias-json"),
    ("helpscout_conversations.json", "helpscout-json"),
    ("helpscout_threads.json", "helpscout-json"),
    ("front_messages.jsonl", "front-json"),
    ("salesforce_cases.json", "salesforce-json"),
]


def _read(name: str, data: bytes | None = None, file_name: str | None = None) -> list[Conversation | Rejection]:
    data = (HELPDESK / name).read_bytes() if data is None else data
    fmt = detect_format(file_name or name, data[:65536])
    assert fmt is not None, name
    items = list(fmt.reader(io.BytesIO(data), ReadContext(file_name or name, SETTINGS)))
    assert all(isinstance(i, Conversation | Rejection) for i in items)
    return items  # type: ignore[return-value]


def _conversations(name: str, data: bytes | None = None, file_name: str | None = None) -> dict[str, Conversation]:
    return {i.id: i for i in _read(name, data, file_name) if isinstance(i, Conversation)}


def _rejections(name: str) -> list[Rejection]:
    return [i for i in _read(name) if isinstance(i, Rejection)]


def _lines(*values: object) -> bytes:
    return "\n".join(json.dumps(v) for v in values).encode()


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("name", "expected"), SAMPLES)
@pytest.mark.parametrize("file_name", ["{name}", "export.txt", "data.csv", "upload", ""])
def test_detected_by_content_whatever_the_name(name, expected, file_name):
    data = (HELPDESK / name).read_bytes()[:65536]
    found = detect_format(file_name.format(name=name), data)
    assert found is not None and found.name == expected


@pytest.mark.parametrize("path", sorted(p for p in DATA.rglob("*") if p.is_file() and HELPDESK not in p.parents))
def test_no_helpdesk_test_takes_another_formats_sample(path):
    from vocmine.ingest.inputs.sniff import Sniff

    sniff = Sniff(path.name.lower(), path.read_bytes()[:65536])
    assert [f.name for f in helpdesk.FORMATS if f.detect and f.detect(sniff)] == []


def test_each_format_has_a_detect_test_and_an_export_hint():
    for fmt in helpdesk.FORMATS:
        assert fmt.detect is not None and fmt.export and FORMATS[fmt.name] is fmt


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"id": 1, "requester_id": 2, "via": {"channel": "web"}, "description": "Refund please"}, "zendesk-json"),
        ({"id": 1, "ticket_id": 2, "author_id": 3, "public": True, "body": "Refund please"}, "zendesk-json"),
        ({"id": 1, "requester_id": 2, "responder_id": 3, "description": "Refund please"}, "freshdesk-json"),
        ({"helpdesk_ticket": {"display_id": 4, "description": "Refund please"}}, "freshdesk-json"),
    ],
)
def test_minimal_records_are_detected(record, expected):
    found = detect_format("x.json", json.dumps(record).encode())
    assert found is not None and found.name == expected


def test_a_utf8_bom_is_tolerated():
    data = b"\xef\xbb\xbf" + (HELPDESK / "zendesk_export.jsonl").read_bytes()
    conversations = _conversations("zendesk_export.jsonl", data)
    assert "zendesk-2001" in conversations


# ---------------------------------------------------------------- Zendesk Support


def test_zendesk_ticket_page_maps_fields_side_loads_and_csat():
    conversations = _conversations("zendesk_tickets.json")
    ticket = conversations["zendesk-1042"]
    assert (ticket.channel, ticket.source, ticket.source_id) == ("email", "zendesk", "1042")
    assert (ticket.customer_id, ticket.agent_id, ticket.team_id) == ("361001", "361900", "2450")
    assert ticket.brand == "Acme Shop" and ticket.subject == "Charged twice for order #58113"
    assert ticket.survey is not None and ticket.survey.csat == 5
    assert ticket.metadata["tags"] == ["billing", "double_charge", "refund"]
    assert ticket.metadata["priority"] == "high" and ticket.metadata["status"] == "solved"
    assert ticket.metadata["custom_fields"] == {"360011": "order_58113"}  # the null field is left out
    assert ticket.metadata["satisfaction_comment"] == "Quick refund, thank you!"
    assert ticket.metadata["text_from"] == "description"
    [turn] = ticket.turns
    assert turn.role == "customer" and turn.speaker == "Maria Lopez"
    assert turn.text.startswith("Hello,\n\nI was charged twice")
    assert ticket.started_at is not None and ticket.started_at.isoformat() == "2024-05-02T08:14:09+00:00"
    voice = conversations["zendesk-1044"]
    assert voice.channel == "call" and voice.brand == "Acme Home"
    assert voice.survey is not None and voice.survey.csat == 1
    assert voice.metadata["satisfaction_reason"] == "Issue is not resolved"
    web = conversations["zendesk-1043"]
    assert web.survey is None and web.account_id == "88001"  # "unoffered" is no answer


def test_zendesk_ticket_without_text_is_rejected_with_a_reason():
    [rejection] = _rejections("zendesk_tickets.json")
    assert rejection.location.position == "line 1, tickets[3]"
    assert rejection.reason == "Zendesk ticket has no comment, description or subject text"


def test_zendesk_full_export_comments_roles_notes_and_channels():
    conversations = _conversations("zendesk_export.jsonl")
    ticket = conversations["zendesk-2001"]
    assert [t.role for t in ticket.turns] == ["customer", "system", "agent", "customer"]
    assert ticket.turns[2].key == "zendesk-comment-880003"
    assert ticket.turns[3].text == "Perfect, thank you for the quick help!"  # from html_body only
    assert ticket.survey is not None and ticket.survey.csat == 5
    assert ticket.ended_at is not None and ticket.ended_at.isoformat() == "2024-06-10T09:02:03+00:00"
    assert conversations["zendesk-2002"].channel == "chat"
    assert conversations["zendesk-2002"].survey is None  # "offered" is no answer
    assert conversations["zendesk-2003"].channel == "social"
    [truncated] = _rejections("zendesk_export.jsonl")
    assert truncated.location.position == "line 4" and truncated.reason.startswith("truncated JSON")


def test_zendesk_comments_file_takes_the_ticket_id_from_its_name_and_users_from_the_page():
    conversations = _conversations("zendesk_ticket_1042_comments.json")
    ticket = conversations["zendesk-1042"]
    assert [t.role for t in ticket.turns] == ["customer", "system", "agent", "customer"]
    assert ticket.turns[2].speaker == "Priya (Acme Support)"
    [bad] = _rejections("zendesk_ticket_1042_comments.json")
    assert bad.location.position == "line 1, comments[2]" and "found str" in bad.reason
    data = (HELPDESK / "zendesk_ticket_1042_comments.json").read_bytes()
    unnamed = _conversations("x", data, "comments.json")
    assert [c.id.split("-")[0] for c in unnamed.values()] == ["email"]  # no id anywhere: a content hash


def test_zendesk_comments_page_names_its_ticket_in_next_page():
    page = {
        "comments": [{"id": 1, "author_id": 5, "plain_body": "My card was declined twice", "public": True}],
        "next_page": "https://acme.zendesk.com/api/v2/tickets/777/comments.json?page=2",
    }
    assert list(_conversations("x", json.dumps(page).encode(), "page.json")) == ["zendesk-777"]


def test_zendesk_ticket_saved_beside_its_comments():
    saved = {
        "ticket": {"id": 55, "requester_id": 1, "subject": "Broken zip", "description": "The zip broke"},
        "comments": [
            {"id": 1, "author_id": 1, "plain_body": "The zip broke on day one", "public": True},
            {"id": 2, "author_id": 7, "plain_body": "We will replace the jacket", "public": True},
        ],
    }
    [ticket] = _conversations("x", json.dumps(saved).encode(), "t.json").values()
    assert ticket.id == "zendesk-55" and [t.role for t in ticket.turns] == ["customer", "agent"]


def test_zendesk_audits_give_comments_notes_and_rating():
    conversations = _conversations("zendesk_audits.json")
    ticket = conversations["zendesk-1043"]
    assert [t.role for t in ticket.turns] == ["customer", "system", "agent"]
    assert ticket.survey is not None and ticket.survey.csat == 1
    assert ticket.metadata["satisfaction_comment"] == "Arrived a week late."
    [no_comment] = _rejections("zendesk_audits.json")
    assert no_comment.location.position == "line 1, audits[3]" and "no comment" in no_comment.reason


def test_zendesk_singer_and_airbyte_records_and_a_users_stream():
    users = {"type": "RECORD", "stream": "users", "record": {"id": 9, "name": "Ana", "role": "agent"}}
    schema = {"type": "SCHEMA", "stream": "tickets", "schema": {}, "key_properties": ["id"]}
    comment = {"id": 11, "ticket_id": 300, "author_id": 8, "plain_body": "Order never came", "public": True}
    reply = {"id": 12, "ticket_id": 300, "author_id": 9, "plain_body": "I am checking with the courier", "public": True}
    airbyte = {"stream": "ticket_comments", "data": reply, "emitted_at": 1700000000000}
    ticket = {"id": 301, "requester_id": 8, "subject": "Late order", "description": "Still waiting", "via": {}}
    data = _lines(schema, users, {"type": "RECORD", "stream": "ticket_comments", "record": comment}, airbyte, ticket)
    items = _read("x", data, "singer.jsonl")
    by_id = {i.id: i for i in items if isinstance(i, Conversation)}
    assert [t.role for t in by_id["zendesk-300"].turns] == ["customer", "agent"]
    assert by_id["zendesk-300"].turns[1].speaker == "Ana"
    assert "zendesk-301" in by_id
    reasons = sorted(i.reason for i in items if isinstance(i, Rejection))
    assert reasons == [
        "a Singer/Airbyte SCHEMA message, not a data record",
        "a Zendesk user record, not a ticket (used to tell agents from end-users)",
    ]


def test_a_ticket_followed_by_its_own_message_records_makes_one_conversation():
    ticket = {"id": 400, "requester_id": 8, "subject": "Broken lamp", "description": "The lamp broke", "tags": ["x"]}
    comments = [
        {"id": 1, "ticket_id": 400, "author_id": 8, "plain_body": "The lamp arrived broken", "public": True},
        {"id": 2, "ticket_id": 400, "author_id": 9, "plain_body": "A new lamp is on its way", "public": True},
    ]
    singer = [
        {"type": "RECORD", "stream": s, "record": r} for s, r in [("tickets", ticket)] + [("c", c) for c in comments]
    ]
    [conversation] = _read("x", _lines(*singer), "tap.jsonl")
    assert isinstance(conversation, Conversation) and conversation.id == "zendesk-400"
    assert [t.role for t in conversation.turns] == ["customer", "agent"] and conversation.metadata["tags"] == ["x"]
    case = {"attributes": {"type": "Case"}, "Id": "500C", "CaseNumber": "7", "Subject": "Late", "Origin": "Email"}
    email = {"attributes": {"type": "EmailMessage"}, "ParentId": "500C", "Incoming": True, "TextBody": "Still late"}
    [combined] = _read("x", _lines(case, email), "soql.jsonl")
    assert isinstance(combined, Conversation) and combined.metadata["case_number"] == "7"
    assert [t.text for t in combined.turns] == ["Still late"]


def test_zendesk_via_channels():
    assert via_channel({"channel": "voice"}) == "call"
    assert via_channel({"channel": "sunshine_conversations_whatsapp"}) == "chat"
    assert via_channel({"channel": "facebook"}) == "social"
    assert via_channel({"channel": "web"}) == via_channel(None) == via_channel({"channel": 4}) == "email"


# ---------------------------------------------------------------- Zendesk Chat


def test_zendesk_chat_roles_rating_department_and_offline_message():
    conversations = _conversations("zendesk_chat.json")
    chat = conversations["zendesk-chat-2405.10821.R8xKqLw2mZp1Ad"]
    assert [t.role for t in chat.turns] == ["bot", "customer", "agent", "customer", "agent", "customer"]
    assert chat.turns[2].speaker == "Lea Martin"
    assert (chat.customer_id, chat.agent_id, chat.team_id) == ("10821.YhT3kcPcmrDfd1", "361901", "Billing")
    assert chat.survey is not None and chat.survey.csat == 5
    assert chat.metadata["rating_comment"] == "Very clear answer" and chat.metadata["tags"] == ["invoice", "vat"]
    assert chat.ended_at is not None and chat.ended_at.isoformat() == "2024-05-20T15:09:42+00:00"
    bad = conversations["zendesk-chat-2405.10822.Tz0PqA7c1NbVvE"]
    assert bad.survey is not None and bad.survey.csat == 1
    assert bad.metadata["rating_comment"] == "Not helpful, the app is unusable"  # from a chat.comment event
    offline = conversations["zendesk-chat-2405.10830.Mm1Ox8Q2Ls"]
    assert [t.role for t in offline.turns] == ["customer"] and offline.metadata["offline_message"] is True
    assert offline.team_id == "Orders"
    [missed] = _rejections("zendesk_chat.json")
    assert missed.location.position == "line 1, chats[3]" and "no chat.msg" in missed.reason


# ---------------------------------------------------------------- Freshdesk


def test_freshdesk_tickets_sources_codes_and_subject_fallback():
    conversations = _conversations("freshdesk_tickets.json")
    email = conversations["freshdesk-5120"]
    assert (email.channel, email.customer_id, email.agent_id, email.team_id) == (
        "email",
        "43022000101",
        "43022900011",
        "43000601001",
    )
    assert email.metadata["status"] == "resolved" and email.metadata["priority"] == "medium"
    assert email.metadata["custom_fields"] == {"cf_order_number": "A-99120"}
    assert email.turns[0].role == "customer" and email.turns[0].text.startswith("The coffee machine")
    assert (
        conversations["freshdesk-5121"].channel == "call"
        and conversations["freshdesk-5121"].account_id == "43000700001"
    )
    chat = conversations["freshdesk-5122"]
    assert chat.channel == "chat" and chat.metadata["text_from"] == "subject"
    outbound = conversations["freshdesk-5124"]
    assert [t.role for t in outbound.turns] == ["agent"] and outbound.metadata["source"] == "outbound email"
    [bad] = _rejections("freshdesk_tickets.json")
    assert bad.location.position == "element 3 at line 71" and "2024-13-45" in bad.reason


def test_freshdesk_ticket_with_conversations_and_requester():
    conversations = _conversations("freshdesk_tickets_with_conversations.jsonl")
    ticket = conversations["freshdesk-5130"]
    assert [t.role for t in ticket.turns] == ["customer", "agent", "customer"]
    assert ticket.turns[0].speaker == "Anna Schmidt" and ticket.turns[1].key == "freshdesk-conversation-43110000301"
    assert "text_from" not in ticket.metadata
    widget = conversations["freshdesk-5131"]
    assert widget.metadata["source"] == "feedback widget"  # source given as the string "9"
    assert [t.role for t in widget.turns] == ["customer", "agent"]  # HTML bodies; no "incoming": by user
    [truncated] = _rejections("freshdesk_tickets_with_conversations.jsonl")
    assert truncated.reason.startswith("truncated JSON")


def test_freshdesk_conversations_file_makes_the_tickets_conversation():
    conversations = _conversations("freshdesk_conversations.json")
    ticket = conversations["freshdesk-5120"]
    assert [t.role for t in ticket.turns] == ["agent", "customer", "system", "agent"]
    [bad] = _rejections("freshdesk_conversations.json")
    assert bad.reason == "expected a JSON object, found int"


def test_freshdesk_legacy_v1_ticket_and_satisfaction_scale():
    v1 = {
        "helpdesk_ticket": {
            "id": 9000001,
            "display_id": 88,
            "subject": "Wrong colour",
            "description": "I ordered the blue mug and got a green one.",
            "requester_id": 5,
            "responder_id": 6,
            "created_at": "2016-03-01T10:00:00+05:30",
            "notes": [{"note": {"body": "We will send the blue one.", "incoming": False, "private": False}}],
        }
    }
    [conversation] = _conversations("x", json.dumps(v1).encode(), "ticket.json").values()
    assert conversation.id == "freshdesk-88" and [t.role for t in conversation.turns] == ["customer", "agent"]
    assert [rating_csat({"ratings": {"default_question": v}}).csat for v in (103, 100, -103)] == [5, 3, 1]  # type: ignore[union-attr]
    assert rating_csat({"ratings": {"default_question": 7}}) is None


# ---------------------------------------------------------------- Gorgias


def test_gorgias_tickets_roles_bot_note_channel_and_team():
    conversations = _conversations("gorgias_tickets.jsonl")
    ticket = conversations["gorgias-48001"]
    assert [t.role for t in ticket.turns] == ["customer", "bot", "system", "agent", "customer"]
    assert ticket.turns[0].text.endswith("(order #30021).")  # stripped_text: no quoted reply
    assert (ticket.customer_id, ticket.agent_id, ticket.team_id) == ("71001", "9101", "310")
    assert ticket.metadata["tags"] == ["returns", "label"]
    assert ticket.ended_at is not None and ticket.ended_at.isoformat() == "2024-03-04T11:30:00+00:00"
    assert conversations["gorgias-48002"].channel == "chat"
    assert conversations["gorgias-48003"].channel == "social"
    [empty] = _rejections("gorgias_tickets.jsonl")
    assert empty.location.position == "line 4" and "no message" in empty.reason


def test_gorgias_messages_page_and_satisfaction_survey():
    [conversation] = _conversations("gorgias_messages.json").values()
    assert conversation.id == "gorgias-48010" and [t.role for t in conversation.turns] == ["customer", "agent"]
    ticket = {
        "id": 5,
        "channel": "email",
        "customer": {"id": 1},
        "messages": [
            {"id": 1, "from_agent": False, "body_text": "Thanks a lot", "created_datetime": "2024-01-01T00:00:00"}
        ],
        "satisfaction_survey": {"score": 4, "body_text": "good service"},
    }
    [rated] = _conversations("x", json.dumps(ticket).encode(), "t.json").values()
    assert rated.survey is not None and rated.survey.csat == 4
    assert rated.metadata["satisfaction_comment"] == "good service"


# ---------------------------------------------------------------- Help Scout


def test_helpscout_conversations_threads_in_time_order_without_line_items():
    conversations = _conversations("helpscout_conversations.json")
    email = conversations["helpscout-870021"]
    assert [t.role for t in email.turns] == ["customer", "system", "agent", "customer"]
    assert (email.customer_id, email.agent_id) == ("40501", "1201")
    assert email.metadata["tags"] == ["missing-item"] and email.metadata["custom_fields"] == {"Order": "ORD-7781"}
    assert email.ended_at is not None and email.ended_at.isoformat() == "2024-02-20T10:00:00+00:00"
    chat = conversations["helpscout-870022"]
    assert chat.channel == "chat" and [t.role for t in chat.turns] == ["customer", "agent"]
    [spam] = _rejections("helpscout_conversations.json")
    assert spam.location.position == "line 1, conversations[2]"


def test_helpscout_threads_page_takes_the_conversation_id_from_its_link():
    [conversation] = _conversations("helpscout_threads.json").values()
    assert conversation.id == "helpscout-870030"
    assert [t.role for t in conversation.turns] == ["customer", "system", "agent"]


# ---------------------------------------------------------------- Front


def test_front_messages_grouped_by_conversation():
    conversations = _conversations("front_messages.jsonl")
    email = conversations["front-cnv_7h2k9"]
    assert [t.role for t in email.turns] == ["customer", "agent", "customer"]
    assert email.turns[1].speaker == "Ines Duarte" and email.customer_id == "ken.w@example.jp"
    assert email.subject == "Refund for returned headphones"
    assert email.started_at is not None and email.started_at.isoformat() == "2024-03-01T10:46:40.512000+00:00"
    assert conversations["front-cnv_7h2m1"].channel == "chat"
    [empty] = _rejections("front_messages.jsonl")
    assert empty.location.position == "line 3, _results[0]" and "no text" in empty.reason


# ---------------------------------------------------------------- Salesforce


def test_salesforce_case_with_emails_comments_and_origin():
    conversations = _conversations("salesforce_cases.json")
    case = conversations["salesforce-5003000000D8cuIAAR"]
    assert [t.role for t in case.turns] == ["customer", "system", "agent"]  # Description not repeated
    assert case.turns[2].text.startswith("Hello Hanna,")  # HtmlBody rendered
    assert (case.customer_id, case.account_id, case.agent_id) == (
        "0033000000YxZ1AAA",
        "0013000000Lk2QAAS",
        "0053000000AbCdEAAV",
    )
    assert case.metadata["case_number"] == "00001026" and case.metadata["reason"] == "Software"
    phone = conversations["salesforce-5003000000D8cuJAAR"]
    assert phone.channel == "call" and [t.role for t in phone.turns] == ["customer"]
    contact, bad_date = _rejections("salesforce_cases.json")
    assert "Contact record" in contact.reason
    assert bad_date.location.position == "line 1, records[3]" and "yesterday afternoon" in bad_date.reason


def test_salesforce_email_messages_without_their_case_are_grouped_by_parent():
    records = [
        {
            "attributes": {"type": "EmailMessage"},
            "Id": "02s1",
            "ParentId": "500A",
            "Incoming": True,
            "TextBody": "Hi, my order is late",
        },
        {
            "attributes": {"type": "EmailMessage"},
            "Id": "02s2",
            "ParentId": "500A",
            "Incoming": False,
            "TextBody": "It ships today",
        },
        {
            "attributes": {"type": "CaseComment"},
            "Id": "00a1",
            "ParentId": "500B",
            "CommentBody": "Called back",
            "IsPublished": True,
        },
    ]
    conversations = _conversations(
        "x", json.dumps({"totalSize": 3, "done": True, "records": records}).encode(), "q.json"
    )
    assert [t.role for t in conversations["salesforce-500A"].turns] == ["customer", "agent"]
    assert [t.role for t in conversations["salesforce-500B"].turns] == ["agent"]


# ---------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize(("name", "expected"), SAMPLES)
def test_truncated_input_never_raises(name, expected):
    data = (HELPDESK / name).read_bytes()
    reader = FORMATS[expected].reader
    for cut in (1, 17, len(data) // 3, len(data) // 2, len(data) - 2):
        items = list(reader(io.BytesIO(data[:cut]), ReadContext(name, SETTINGS)))
        assert items and all(isinstance(i, Conversation | Rejection) for i in items)


# Records built from the keys these readers look at, with values of every JSON type, nested.
_KEYS = sorted(
    {
        *("id", "ticket_id", "requester_id", "author_id", "public", "plain_body", "body", "html_body", "via"),
        *("channel", "comments", "events", "child_events", "type", "users", "role", "tickets", "created_at"),
        *("history", "nick", "msg", "timestamp", "visitor", "rating", "chats", "incoming", "private"),
        *("body_text", "description_text", "source", "conversations", "helpdesk_ticket", "notes", "from_agent"),
        *("messages", "data", "_embedded", "threads", "createdBy", "_results", "is_inbound", "_links"),
        *("records", "attributes", "ParentId", "EmailMessages", "CaseNumber", "stream", "record", "subject"),
    }
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "2024-01-01T00:00:00Z", "99999999999999999999", "Comment", "chat", "end-user"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6), min_size=1, max_size=4))
def test_readers_never_raise_on_records_of_their_own_keys(values):
    data = "\n".join(json.dumps(v, allow_nan=True) for v in values).encode()
    for fmt in helpdesk.FORMATS:
        items = list(fmt.reader(io.BytesIO(data), ReadContext("fuzz.jsonl", SETTINGS)))
        assert items and all(isinstance(i, Conversation | Rejection) for i in items), fmt.name


def test_an_empty_page_is_one_rejection():
    [item] = _read("x", b'{"tickets": [], "requester_id": null, "submitter_id": null}', "t.json")
    assert isinstance(item, Rejection) and "empty page" in item.reason


def test_ticket_ids_in_file_names():
    assert ticket_id_from_name("exports/ticket_1234_comments.json") == "1234"
    assert ticket_id_from_name("1234.json") == "1234"
    assert ticket_id_from_name("Case-00017.json") == "00017"
    assert ticket_id_from_name("comments.json") is None


@pytest.mark.parametrize("comments_last", [True, False])
def test_a_tickets_file_and_a_comments_file_of_one_ticket_combine_in_either_order(ingest, store, comments_last):
    tickets, comments = HELPDESK / "zendesk_tickets.json", HELPDESK / "zendesk_ticket_1042_comments.json"
    first, second = (tickets, comments) if comments_last else (comments, tickets)
    ingest(first)
    report = ingest(second)
    assert report.conversations["updated"] >= 1
    stored = store.get_conversation("zendesk-1042")
    # the comments' four turns, the ticket's subject: a description-only ticket never wipes the thread
    assert len(stored.turns) == 4 and stored.subject == "Charged twice for order #58113"
    assert "text_from" not in stored.metadata
    again = ingest(first, second)
    assert again.records_stored == 0 and store.get_conversation("zendesk-1042") == stored


def test_both_files_in_one_run_combine_too(ingest, store):
    ingest(HELPDESK / "zendesk_ticket_1042_comments.json", HELPDESK / "zendesk_tickets.json")
    stored = store.get_conversation("zendesk-1042")
    assert len(stored.turns) == 4 and stored.subject == "Charged twice for order #58113"


def test_end_to_end_ingest_of_every_sample(ingest, store):
    report = ingest(*(HELPDESK / name for name, _ in SAMPLES))  # not SOURCES.md, which is no export
    assert report.files_read == len(SAMPLES)
    assert report.records_rejected == 13
    assert all(r["position"] != "file" for r in report.rejection_samples)  # no input went unrecognised
    stored = {c.id: c for c in store.iter_conversations()}
    assert len(stored) == 26
    customer = stored["zendesk-chat-2405.10821.R8xKqLw2mZp1Ad"]
    assert customer.customer_id is not None and customer.customer_id.startswith("cust-")  # redacted later, not here

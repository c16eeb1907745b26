"""Genesys Cloud: speech and text analytics transcripts and transcription notifications, messaging
messages and web messaging history, and conversation details (which hold no text). Test data and
the documentation each file follows: tests/data/chat_platforms/SOURCES.md."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import FORMATS, detect_format
from vocmine.ingest.records import ReadContext, Rejection
from vocmine.schema import Conversation
from vocmine.settings import Settings

HERE = DATA / "chat_platforms"
TRANSCRIPTS = HERE / "genesys_transcripts.json"
NOTIFICATIONS = HERE / "genesys_transcription_notifications.json"
MESSAGES = HERE / "genesys_messages.json"
HISTORY = HERE / "genesys_webmessaging_history.json"
DETAILS = HERE / "genesys_conversation_details.json"

CALL = "genesys-5f1d3c2a-8b4e-4f6a-9c1d-2e3f4a5b6c7d"
MESSAGE = "genesys-a0c4e8f2-6b1d-4a5e-9f3c-7d2b8e4a1c6f"
EMAIL = "genesys-f6e5d4c3-b2a1-4098-8f7e-6d5c4b3a2f1e"
MAYA, DANIEL = "3a9f1c7e-2b4d-4e6f-8a1b-5c7d9e0f1a2b", "8e2d4f6a-1c3b-4a5d-9e7f-0b2c4d6e8f1a"


def _read(format_name: str, data: bytes, name: str = "input") -> list[object]:
    return list(FORMATS[format_name].reader(io.BytesIO(data), ReadContext(name, Settings())))


def _conversations(items: list[object]) -> list[Conversation]:
    return [i for i in items if isinstance(i, Conversation)]


def _rejections(items: list[object]) -> list[Rejection]:
    return [i for i in items if isinstance(i, Rejection)]


def _by_id(store) -> dict[str, Conversation]:
    return {c.id: c for c in store.iter_conversations()}


def _reasons(report) -> list[str]:
    return [r["reason"] for r in report.rejection_samples]


def _docs() -> list[dict]:
    return json.loads(TRANSCRIPTS.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- detection

FILES = [
    (TRANSCRIPTS, "genesys-transcript-json"),
    (NOTIFICATIONS, "genesys-transcript-json"),
    (MESSAGES, "genesys-messages-json"),
    (HISTORY, "genesys-messages-json"),
    (DETAILS, "genesys-conversation-details"),
]


@pytest.mark.parametrize(("path", "expected"), FILES, ids=[p.name for p, _ in FILES])
@pytest.mark.parametrize("name", ["{path}", "export.bin", "download", "notes.txt", "data.csv"])
def test_each_file_is_detected_by_content_whatever_its_name(path: Path, expected, name):
    found = detect_format(name.format(path=path.name), path.read_bytes()[:65536])
    assert found is not None and found.name == expected


def test_a_single_downloaded_transcript_with_a_bom_is_detected():
    single = b"\xef\xbb\xbf" + json.dumps(_docs()[0], indent=2).encode()
    assert detect_format("c6f09067-transcripts", single).name == "genesys-transcript-json"  # type: ignore[union-attr]


def test_genesys_formats_take_no_other_file():
    for path in DATA.rglob("*"):
        if path.is_file() and path.suffix != ".md" and not path.name.startswith("genesys_"):
            found = detect_format(path.name, path.read_bytes()[:65536])
            assert found is None or not found.name.startswith("genesys"), path


def test_genesys_transcripts_are_read_whatever_channel_the_user_names():
    # one format holds calls, chats and e-mails, so naming a channel does not exclude it
    head = TRANSCRIPTS.read_bytes()[:65536]
    assert detect_format("t.json", head, channel="chat").name == "genesys-transcript-json"  # type: ignore[union-attr]
    assert detect_format("t.json", head, channel="email").name == "genesys-transcript-json"  # type: ignore[union-attr]


# ---------------------------------------------------------------- transcripts


def test_call_transcript_roles_turns_timings_and_fields():
    first = _conversations(_read("genesys-transcript-json", TRANSCRIPTS.read_bytes()))[0]
    assert first.id == CALL and first.source == "genesys" and first.channel == "call"
    assert first.source_id == CALL.removeprefix("genesys-") and first.language == "en"
    # the IVR's prompts are the bot's (said while only the IVR and queue were connected)
    assert [t.role for t in first.turns] == [
        "bot",
        "customer",
        "bot",
        "agent",
        "customer",
        "agent",
        "customer",
        "agent",
    ]
    complaint = first.turns[4]  # two phrases of the customer in a row make one turn
    assert complaint.text == (
        "Hi Maya, I was charged twice for my April bill. The same amount came out on the third and again on the fifth."
    )
    # offsets from the conversation start: the recording began 1 s in, the phrase 35.4 s into it
    assert (complaint.start_s, complaint.end_s) == (36.4, 43.3)
    assert complaint.timestamp is not None and complaint.timestamp.isoformat() == "2024-05-14T09:02:36.400000+00:00"
    assert first.turns[3].speaker == MAYA and first.agent_id == MAYA
    assert first.team_id == "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
    assert first.customer_id == "tel:+15035550142"  # pseudonymised when stored
    assert first.turns[0].key == "genesys:e2b7a9c4-1f3d-4c5e-8a6b-9d0c1e2f3a4b:a7d3f1e9-4c2b-4a8d-9e6f-1b3c5d7e9f0a:0"
    assert first.started_at.isoformat() == "2024-05-14T09:02:02.200000+00:00"  # type: ignore[union-attr]
    assert first.ended_at.isoformat() == "2024-05-14T09:03:03+00:00"  # type: ignore[union-attr]
    metrics = first.call_metrics
    assert (
        metrics is not None and metrics.overtalk_s == 0.4 and set(metrics.talk_time_s) == {"bot", "customer", "agent"}
    )
    assert first.metadata["topics"] == ["Billing - Duplicate charge", "Refund"]
    assert first.metadata["genesys_sentiment"] == {"customer": -0.5, "agent": 0.4}
    assert first.metadata["acoustic_events"] == {"silence": 1, "overtalk": 1}
    assert first.metadata["queue_ids"] == ["4d5e6f7a-8b9c-4d0e-a1f2-3b4c5d6e7f8a"]
    assert first.metadata["communication_id"] == "e2b7a9c4-1f3d-4c5e-8a6b-9d0c1e2f3a4b"


def test_message_and_email_transcripts_are_chat_and_email():
    by_id = {c.id: c for c in _conversations(_read("genesys-transcript-json", TRANSCRIPTS.read_bytes()))}
    message = by_id[MESSAGE]
    assert message.channel == "chat" and message.language == "en" and message.call_metrics is None
    # the greeting came while only the inbound message flow was connected: the bot's
    assert [t.role for t in message.turns] == ["customer", "bot", "customer", "agent", "customer", "agent", "customer"]
    assert message.turns[3].text == (
        "Hello, I'm Priya. I can see the parcel is held at the Leeds depot after a missed scan.\n"
        "I've asked the depot to put it on tomorrow's van."
    )
    assert all(t.start_s is None for t in message.turns) and message.turns[0].timestamp is not None
    assert message.metadata["media_type"] == "message" and message.metadata["topics"] == ["Delivery - Late"]
    email = by_id[EMAIL]
    assert email.channel == "email" and email.subject == "Refund for returned jacket (order 7781)"
    assert [t.role for t in email.turns] == ["customer", "agent"]
    assert email.turns[0].text.startswith("Hello, I returned the jacket") and "\n" in email.turns[0].text
    assert email.customer_id == "olivia.hart@example.net" and email.agent_id == "7f9b1d3f-5a7c-4e9b-8d1f-3a5c7e9b1d3f"


def test_a_transcript_without_phrase_text_is_rejected_with_a_reason():
    [rejection] = _rejections(_read("genesys-transcript-json", TRANSCRIPTS.read_bytes(), "t.json"))
    assert rejection.reason == "Genesys call transcript without any phrase text"
    assert rejection.location.position.startswith("element 3")


def test_transcripts_end_to_end_communications_of_one_call_combine(ingest, store):
    report = ingest(TRANSCRIPTS)
    conversations = _by_id(store)
    assert set(conversations) == {CALL, MESSAGE, EMAIL}
    call = conversations[CALL]  # two communications (the transfer to the loyalty team), one conversation
    assert len(call.turns) == 12 and [t.speaker for t in call.turns if t.role == "agent"][-1] == DANIEL
    assert call.turns[-1].text == "Great, thank you." and call.turns[8].start_s == 69.9
    assert call.customer_id and call.customer_id.startswith("cust-")
    assert report.records_stored == 4 and report.records_rejected == 1
    assert "without any phrase text" in _reasons(report)[0]
    again = ingest(TRANSCRIPTS)  # the same file again changes nothing
    assert again.records_stored == 0 and len(_by_id(store)[CALL].turns) == 12


def test_communications_in_two_files_combine_in_either_order(ingest, store, tmp_path):
    docs = _docs()
    (tmp_path / "loyalty.json").write_text(json.dumps(docs[4]))
    (tmp_path / "billing.json").write_text(json.dumps(docs[0]))
    ingest(tmp_path / "loyalty.json")
    ingest(tmp_path / "billing.json")
    call = _by_id(store)[CALL]
    assert len(call.turns) == 12 and call.turns[0].role == "bot" and call.turns[-1].text == "Great, thank you."


def test_transcript_variants_strings_offsets_nulls_and_no_media_type():
    doc = {
        "conversationId": "11111111-2222-4333-8444-555555555555",
        "communicationId": "c-1",
        "mediaType": None,
        "conversationStartTime": None,
        "startTime": "1715677321000",
        "transcripts": [
            {
                "transcriptId": "t-1",
                "language": None,
                "phrases": [
                    {
                        "text": "hello how can i help",
                        "offsetMs": "500",
                        "durationMs": "1500",
                        "participantPurpose": "agent",
                    },
                    {
                        "text": "my <b>bill</b> is wrong",
                        "offsetMs": 2300,
                        "durationMs": 2100,
                        "participantPurpose": "EXTERNAL",
                    },
                    {"text": "", "offsetMs": 4500, "durationMs": 300, "participantPurpose": "external"},
                    {
                        "text": "one moment",
                        "startTimeMs": 5000,
                        "duration": {"milliseconds": 900},
                        "participantPurpose": "ivr",
                    },
                    None,
                    {"text": "   ", "participantPurpose": "external"},
                ],
                "analytics": None,
            },
            "not a transcript",
        ],
        "participants": None,
        "extra": {"unknown": True},
    }
    [conversation] = _conversations(_read("genesys-transcript-json", json.dumps(doc).encode()))
    assert conversation.channel == "call"  # offsets and durations: a voice transcript
    assert [(t.role, t.start_s, t.end_s) for t in conversation.turns] == [
        ("agent", 0.5, 2.0),
        ("customer", 2.3, 4.4),
        ("bot", 5.0, 5.9),  # a small startTimeMs is an offset
    ]
    assert conversation.turns[1].text == "my bill is wrong"
    assert conversation.turns[0].timestamp.isoformat() == "2024-05-14T09:02:01.500000+00:00"  # type: ignore[union-attr]
    assert conversation.language is None and conversation.call_metrics is not None


def test_transcript_rejects_what_is_not_a_transcript():
    lines = b'{"transcripts": "none"}\n[1, 2]\n{"conversationId": "x", "transcripts": [{"phrases": null}]}\n'
    reasons = [r.reason for r in _rejections(_read("genesys-transcript-json", lines))]
    assert reasons[:2] == ["not a Genesys Cloud transcript: no 'transcripts' list"] * 2
    assert reasons[2] == "Genesys transcript without any phrase text"


# ---------------------------------------------------------------- transcription notifications


def test_transcription_notifications_are_pieces_of_the_call(ingest, store):
    items = _read("genesys-transcript-json", NOTIFICATIONS.read_bytes())
    assert [r.reason for r in _rejections(items)] == [
        "Genesys transcription notification without final transcripts (status SESSION_ONGOING)",
        "Genesys transcription notification without final transcripts (status SESSION_ENDED)",
    ]
    pieces = _conversations(items)
    assert all(p.call_metrics is None for p in pieces)  # a few seconds each: no metrics from a piece
    report = ingest(NOTIFICATIONS)
    parcel = _by_id(store)["genesys-2e4a6c8e-0a2c-4e6a-8c0e-2a4c6e8a0c2e"]
    assert [t.role for t in parcel.turns] == ["agent", "customer", "agent", "customer", "agent"]
    assert (
        parcel.turns[1].text == "Hi, my parcel says delivered but it's not here. I've checked with the neighbours too."
    )
    # the partial "okay how long will" is left out; its final version is kept
    assert parcel.turns[3].text == "Okay, how long will that take?" and parcel.turns[3].start_s == 23.6
    assert parcel.language == "en" and parcel.channel == "call"
    assert report.records_stored == 4 and report.records_rejected == 2


# ---------------------------------------------------------------- messages


def test_message_pages_roles_speakers_and_fields():
    items = _read("genesys-messages-json", MESSAGES.read_bytes())
    whatsapp, sms = _conversations(items)
    assert whatsapp.id == "genesys-b4d6f8a0-2c4e-4a6c-8e0a-4c6e8a0c2e4b" and whatsapp.source == "genesys"
    assert [t.role for t in whatsapp.turns] == ["customer", "bot", "agent", "customer", "agent", "customer"]
    assert whatsapp.turns[2].speaker == "Tom Becker" and whatsapp.agent_id == "9c1e3a5c-7e9b-4d1f-8a3c-5e7a9c1e3b5d"
    assert whatsapp.customer_id == "+4915155501234" and whatsapp.turns[0].speaker == "+4915155501234"
    assert whatsapp.turns[0].key == "genesys:m-d-0001-4a1b"
    assert whatsapp.metadata == {"events": {"attachment": 1}, "non_text_messages": 1, "messenger_type": "whatsapp"}
    assert whatsapp.started_at.isoformat() == "2024-05-16T14:03:22.114000+00:00"  # type: ignore[union-attr]
    # SMS pages of older exports: textBody only, no normalizedMessage; outbound from a user is an agent
    assert [t.role for t in sms.turns] == ["customer", "agent", "customer", "agent"]
    assert sms.turns[1].speaker == "Ava Chen" and sms.metadata["messenger_type"] == "sms"
    [rejection] = _rejections(items)
    assert rejection.reason == "Genesys messaging conversation without any text message"


def test_web_messaging_history_newest_first_is_put_in_order():
    [conversation] = _conversations(_read("genesys-messages-json", HISTORY.read_bytes()))
    assert conversation.id.startswith("chat-")  # the guest API gives no conversation id
    assert [t.role for t in conversation.turns] == ["customer", "bot", "customer", "agent", "customer", "agent"]
    assert conversation.turns[2].text == "Talk to an agent"  # the quick-reply answer
    assert conversation.turns[1].speaker == "Northwind Assistant" and conversation.turns[3].speaker == "Chris"
    assert conversation.metadata["events"] == {"event": 1}
    assert conversation.customer_id == "6b8d0f2b-4d6f-4b8d-8f2b-4d6f8b0d2f4b"


def test_message_lines_are_grouped_by_conversation_and_pages_in_two_files_combine(ingest, store, tmp_path):
    pages = json.loads(MESSAGES.read_text(encoding="utf-8"))
    lines = [json.dumps(m) for page in pages[:2] for m in page["entities"]]
    items = _read("genesys-messages-json", "\n".join(lines).encode())
    assert [len(c.turns) for c in _conversations(items)] == [6, 4] and not _rejections(items)
    first, rest = dict(pages[0], entities=pages[0]["entities"][:3]), dict(pages[0], entities=pages[0]["entities"][3:])
    (tmp_path / "p1.json").write_text(json.dumps(first))
    (tmp_path / "p2.json").write_text(json.dumps(rest))
    report = ingest(tmp_path / "p2.json", tmp_path / "p1.json")
    (conversation,) = _by_id(store).values()
    assert [t.role for t in conversation.turns] == ["customer", "bot", "agent", "customer", "agent", "customer"]
    assert report.records_stored == 2


def test_messages_reject_what_is_not_a_message():
    data = b'{"entities": []}\n{"hello": 1}\n{"entities": [{"id": "x"}]}\n'
    reasons = [r.reason for r in _rejections(_read("genesys-messages-json", data))]
    assert reasons == [
        "Genesys message page without messages",
        "not a Genesys message: no 'direction' with a message or 'entities' page",
        "not a Genesys message: no 'direction'",
    ]


# ---------------------------------------------------------------- conversation details


def test_conversation_details_are_recognised_and_each_conversation_rejected(ingest):
    items = _read("genesys-conversation-details", DETAILS.read_bytes())
    assert len(items) == 3 and all(isinstance(i, Rejection) for i in items)
    reasons = [r.reason for r in _rejections(items)]
    assert reasons[0].startswith(
        "conversation 5f1d3c2a-8b4e-4f6a-9c1d-2e3f4a5b6c7d (voice): Genesys conversation details"
    )
    assert all("transcripturl" in r and "messages/bulk" in r for r in reasons)
    assert "(message)" in reasons[1] and "(email)" in reasons[2]
    report = ingest(DETAILS)
    assert report.records_rejected == 3 and report.files_read == 1  # recognised, not "unrecognised"


def test_conversation_records_without_text_are_recognised_too():
    record = {
        "id": "a0c4e8f2-6b1d-4a5e-9f3c-7d2b8e4a1c6f",
        "participants": [
            {
                "id": "p1",
                "purpose": "customer",
                "state": "disconnected",
                "connectedTime": "2024-05-15T17:40:04Z",
                "messages": [{"messageId": "m1", "messageURI": "/api/v2/conversations/messages/x/messages/m1"}],
            },
            {"id": "p2", "purpose": "agent", "userId": "u1", "wrapupRequired": True, "messages": []},
        ],
        "selfUri": "/api/v2/conversations/messages/a0c4e8f2-6b1d-4a5e-9f3c-7d2b8e4a1c6f",
    }
    data = json.dumps(record).encode()
    assert detect_format("conversation.json", data).name == "genesys-conversation-details"  # type: ignore[union-attr]
    [rejection] = _read("genesys-conversation-details", data)
    assert isinstance(rejection, Rejection) and "(messages)" in rejection.reason
    empty = _read("genesys-conversation-details", b'{"conversations": [], "totalHits": 0}\n[1]')
    assert [r.reason for r in _rejections(empty)] == [
        "Genesys conversation details page without conversations",
        "not a Genesys conversation record: no 'conversationId' and 'participants'",
    ]


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize(("path", "format_name"), FILES, ids=[p.name for p, _ in FILES])
def test_truncated_files_never_raise(path: Path, format_name):
    data = path.read_bytes()
    for cut in (1, 40, len(data) // 3, len(data) // 2, len(data) - 5):
        items = _read(format_name, data[:cut])
        assert items and all(isinstance(i, Conversation | Rejection) for i in items)
        assert any(isinstance(i, Rejection) and "truncated" in i.reason for i in items)

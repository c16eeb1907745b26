"""Chat platforms and dialogue corpora: Slack, WhatsApp, Amazon Connect chat, Rasa, MultiWOZ/SGD/
Taskmaster/ABCD, LivePerson and Twilio Conversations (test data and its sources:
tests/data/chat_platforms/SOURCES.md)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import FORMATS, detect_format
from vocmine.ingest.records import ReadContext, Rejection, ThreadMessage
from vocmine.schema import Conversation
from vocmine.settings import Settings

HERE = DATA / "chat_platforms"
SLACK = HERE / "slack_export"


def _by_id(store) -> dict[str, Conversation]:
    return {c.id: c for c in store.iter_conversations()}


def _read(format_name: str, data: bytes, name: str = "input", **settings: object) -> list[object]:
    ctx = ReadContext(name, Settings(**settings))  # type: ignore[arg-type]
    return list(FORMATS[format_name].reader(io.BytesIO(data), ctx))


def _conversations(items: list[object]) -> list[Conversation]:
    return [i for i in items if isinstance(i, Conversation)]


def _reasons(report) -> list[str]:
    return [r["reason"] for r in report.rejection_samples]


# ---------------------------------------------------------------- detection

FILES = [
    ("slack_export/support/2024-03-04.json", "slack-export"),
    ("slack_export/users.json", "slack-metadata"),
    ("slack_export/channels.json", "slack-metadata"),
    ("whatsapp_android_business.txt", "whatsapp-text"),
    ("whatsapp_ios.txt", "whatsapp-text"),
    ("whatsapp_de.txt", "whatsapp-text"),
    ("connect_chat_transcripts.jsonl", "connect-chat-json"),
    ("connect_contact_lens_chat.json", "connect-chat-json"),
    ("rasa_trackers.json", "rasa-tracker"),
    ("multiwoz_data.json", "dialogue-corpus-json"),
    ("sgd_dialogues.json", "dialogue-corpus-json"),
    ("taskmaster_dialogs.json", "dialogue-corpus-json"),
    ("abcd_splits.json", "dialogue-corpus-json"),
    ("liveperson_conversations.json", "liveperson-json"),
    ("twilio_conversation_messages.json", "twilio-conversations-json"),
]


@pytest.mark.parametrize(("path", "expected"), FILES)
@pytest.mark.parametrize("name", ["{path}", "export.bin", "download", "notes.txt"])
def test_each_file_is_detected_by_content_whatever_its_name(path, expected, name):
    head = (HERE / path).read_bytes()[:65536]
    found = detect_format(name.format(path=path), head)
    if expected == "slack-metadata" and name != "{path}":
        # users.json / channels.json are also recognised by their content (Slack ids and keys).
        assert found is not None and found.name == "slack-metadata"
    else:
        assert found is not None and found.name == expected


def test_family_formats_leave_other_files_to_the_core_formats():
    assert detect_format("chat/transcript.txt", (DATA / "chat" / "transcript.txt").read_bytes()).name == "chat-text"  # type: ignore[union-attr]
    assert detect_format("abcd_like.json", (DATA / "chat" / "abcd_like.json").read_bytes()).name == "chat-json"  # type: ignore[union-attr]
    plain = b"2024-03-01 12:03 - Customer: my order is late\n2024-03-01 12:04 - Agent: sorry\n"
    assert detect_format("chat.txt", plain).name == "chat-text"  # type: ignore[union-attr]


def test_voice_contact_lens_is_not_taken_for_a_chat():
    voice = {
        "Version": "1.1.0",
        "AccountId": "111122223333",
        "Channel": "VOICE",
        "ContentMetadata": {"Output": "Raw"},
        "JobStatus": "COMPLETED",
        "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}],
        "Transcript": [
            {
                "BeginOffsetMillis": 0,
                "EndOffsetMillis": 900,
                "Content": "Hello.",
                "Id": "t1",
                "ParticipantId": "CUSTOMER",
            }
        ],
    }
    found = detect_format("call.json", json.dumps(voice).encode())
    assert found is None or found.name != "connect-chat-json"
    items = _read("connect-chat-json", json.dumps(voice).encode())
    assert isinstance(items[0], Rejection) and "VOICE" in items[0].reason


# ---------------------------------------------------------------- Slack


def test_slack_export_folder_threads_across_day_files_and_accounts_for_every_message(ingest, store):
    report = ingest(SLACK)
    conversations = _by_id(store)
    thread = next(c for c in conversations.values() if c.id.startswith("chat-"))
    assert [t.role for t in thread.turns] == ["customer", "agent", "customer", "agent"]
    assert thread.turns[1].text.endswith("returns we collected & re-sent.")  # &amp; rendered
    assert thread.turns[-1].text.startswith("Found it: 138 parcels")  # a reply in the next day's file
    assert thread.source == "slack" and thread.customer_id and thread.customer_id.startswith("cust-")
    assert thread.agent_id == "Priya Natarajan"
    day = conversations["slack-support-2024-03-04"]
    assert [t.role for t in day.turns] == ["system", "bot", "customer", "agent"]
    assert day.turns[1].text.startswith("Depot delay: Leeds hub")  # a bot message's attachment text
    assert "the status page" in day.turns[2].text and "<https" not in day.turns[2].text
    assert day.metadata["slack_channel"] == "support"
    reasons = _reasons(report)
    assert sum("Slack workspace metadata" in r for r in reasons) == 3
    assert any("only files shared (driver-app-error.png)" in r for r in reasons)
    assert any(r == "deleted Slack message" for r in reasons)
    assert any("without a valid 'ts'" in r for r in reasons)
    assert any("(channel_join) on a day without messages" in r for r in reasons)
    assert report.records_stored == 5 and report.records_rejected == 8  # 4 thread messages, 1 channel-day
    assert not any("not recognised" in r for r in reasons)


def test_slack_export_zip_gives_the_same_conversations(ingest, store, tmp_path):
    archive = tmp_path / "acme-slack-export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(SLACK.rglob("*.json")):
            zipped.write(path, path.relative_to(SLACK).as_posix())
    report = ingest(archive)
    assert "slack-support-2024-03-04" in _by_id(store)
    assert report.records_stored == 5 and len(_by_id(store)) == 2


def test_slack_api_history_page_is_read_like_a_day_file():
    page = {
        "ok": True,
        "messages": [
            {"type": "message", "user": "U06CUST009", "text": "Where is my refund?", "ts": "1709800000.000100"},
            {"type": "message", "user": "U06AGNT001", "text": "Sent today.", "ts": "1709800100.000200"},
        ],
        "has_more": False,
    }
    data = json.dumps(page).encode()
    assert detect_format("history.json", data).name == "slack-export"  # type: ignore[union-attr]
    (conversation,) = _conversations(_read("slack-export", data, "history.json"))
    assert conversation.id == "slack-history-2024-03-07"
    assert [t.role for t in conversation.turns] == ["customer", "agent"]


def test_empty_integration_log_is_still_slack_metadata():
    found = detect_format("export.zip!integration_logs.json", b"[\n\n]")
    assert found is not None and found.name == "slack-metadata"


# ---------------------------------------------------------------- WhatsApp


def test_whatsapp_android_business_export_sessions_roles_and_placeholders(ingest, store):
    report = ingest(HERE / "whatsapp_android_business.txt")
    conversations = sorted(_by_id(store).values(), key=lambda c: c.started_at)  # type: ignore[arg-type, return-value]
    assert len(conversations) == 2  # four days without a message split the chat
    first, second = conversations
    assert first.source == "whatsapp" and first.agent_id == "Brightline Home Broadband"
    assert [t.role for t in first.turns[:3]] == ["system", "system", "customer"]
    assert first.turns[0].text.startswith("Messages and calls are end-to-end encrypted")
    agent_turn = next(t for t in first.turns if t.text.startswith("Thanks. I can see a line fault"))
    assert agent_turn.role == "agent" and agent_turn.text.endswith("Please leave the router switched on.")
    assert first.metadata["media_messages"] == 1 and second.metadata["deleted_messages"] == 1
    assert first.started_at is not None and first.started_at.isoformat() == "2024-03-14T09:02:00+00:00"
    assert (
        second.turns[0].timestamp is not None and second.turns[0].timestamp.isoformat() == "2024-03-18T18:45:00+00:00"
    )
    assert report.records_rejected == 1 and "line 16" in report.rejection_samples[0]["position"]


def test_whatsapp_ios_notices_attributed_to_the_business_and_day_first_dates():
    items = _read("whatsapp-text", (HERE / "whatsapp_ios.txt").read_bytes())
    first, second = _conversations(items)
    assert first.agent_id == "Lakeside Dental" and first.customer_id == "Elena Petrova"
    assert [t.role for t in first.turns] == ["system", "system", "customer", "agent", "customer", "agent"]
    assert "\u200e" not in first.turns[0].text
    assert first.metadata["media_messages"] == 1  # <attached: …>
    assert (
        second.turns[0].timestamp is not None and second.turns[0].timestamp.isoformat() == "2024-05-20T10:02:13+00:00"
    )


def test_whatsapp_without_business_takes_the_first_speaker_as_customer():
    (conversation,) = _conversations(_read("whatsapp-text", (HERE / "whatsapp_de.txt").read_bytes()))
    assert [t.role for t in conversation.turns] == ["customer", "agent", "agent", "customer", "agent"]
    assert (
        conversation.turns[0].timestamp is not None
        and conversation.turns[0].timestamp.isoformat() == "2023-01-24T18:20:00+00:00"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("09/10/22, 10:37 p. m. - Ana Ruiz: Mi pedido no llegó", "2022-10-09T22:37:00"),  # d/m decided below
        ("[12.3.2022 klo 14.08.18] Matti: Tilaus puuttuu", "2022-03-12T14:08:18"),
        ("[3/14/24, 9:41:05\u202fPM] Kim Lee: my card was declined", "2024-03-14T21:41:05"),
        ("2022/12/14, 13:34. - John Roe: where is my refund", "2022-12-14T13:34:00"),
        ("9/24/2019 11:30 p.m. - John Roe: order late", "2019-09-24T23:30:00"),
        ("\u200e[10.21.21, 15:21:45] John Roe: one", "2021-10-21T15:21:45"),
    ],
)
def test_whatsapp_date_layouts(line, expected):
    data = (line + "\n" + "13/10/22, 10:40 p. m. - Tienda: ok\n").encode() if "Ana" in line else (line + "\n").encode()
    assert detect_format("chat.txt", data).name == "whatsapp-text"  # type: ignore[union-attr]
    conversation = _conversations(_read("whatsapp-text", data))[0]
    assert conversation.turns[0].timestamp is not None
    assert conversation.turns[0].timestamp.isoformat() == expected + "+00:00"


def test_whatsapp_settings_labels_and_brand_accounts_pick_the_agent():
    data = (
        b"1/2/24, 10:00 - Acme: Your parcel is on its way\n1/2/24, 10:05 - Dana: It says delivered but it isn't here\n"
    )
    (conversation,) = _conversations(_read("whatsapp-text", data, brand_accounts=["Acme"]))
    assert [t.role for t in conversation.turns] == ["agent", "customer"]


def test_whatsapp_export_zip_with_media(ingest, store, tmp_path):
    archive = tmp_path / "WhatsApp Chat - Lakeside Dental.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(HERE / "whatsapp_ios.txt", "_chat.txt")
        zipped.writestr("00000007-PHOTO-2024-05-02-14-36-25.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    report = ingest(archive)
    assert len(_by_id(store)) == 2
    (reason,) = _reasons(report)
    assert reason.startswith("WhatsApp media file (00000007-PHOTO-2024-05-02-14-36-25.jpg)")


# ---------------------------------------------------------------- Amazon Connect


def test_connect_chat_transcripts_roles_events_and_rejection(ingest, store):
    report = ingest(HERE / "connect_chat_transcripts.jsonl")
    conversations = _by_id(store)
    first = conversations["connect-3f9a1c20-8d7e-4b6a-a5c4-12ab34cd56ef"]
    assert first.source == "amazon-connect" and first.agent_id == "Nadia"
    assert [t.role for t in first.turns] == ["bot", "customer", "agent", "agent", "customer"]
    assert first.metadata["events"] == {"participant.joined": 2, "participant.left": 1, "chat.ended": 1}
    second = conversations["connect-d4c3b2a1-9f8e-4d7c-b6a5-0f1e2d3c4b5a"]
    assert second.turns[2].text == "Yes, the display is blank"  # an interactive answer
    assert second.turns[1].role == "bot" and second.metadata["events"] == {"attachment": 1}
    assert second.metadata["initial_contact_id"] == "b7d2e4f6-1a3c-4e5f-8a9b-0c1d2e3f4a5b"
    assert report.records_rejected == 1 and _reasons(report) == ["Amazon Connect chat without any text message"]


def test_contact_lens_chat_analysis_metadata_and_language():
    (conversation,) = _conversations(_read("connect-chat-json", (HERE / "connect_contact_lens_chat.json").read_bytes()))
    assert conversation.id == "connect-9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
    assert conversation.language == "en"
    assert conversation.metadata["categories"] == ["billing-dispute", "churn-risk"]
    assert conversation.metadata["contact_lens_sentiment"] == {"AGENT": 0.8, "CUSTOMER": -1.25}
    assert conversation.metadata["response_time_ms"]["agent"] == 41250
    assert [t.role for t in conversation.turns] == ["bot", "customer", "customer", "agent", "agent", "customer"]
    assert conversation.turns[1].speaker == "Ruth" and conversation.turns[3].speaker == "Callum"


def test_connect_get_transcript_newest_first_is_put_in_time_order():
    response = {
        "InitialContactId": "c-42",
        "Transcript": [
            {
                "AbsoluteTime": "2024-04-12T10:00:30.000Z",
                "Content": "Thanks!",
                "ContentType": "text/plain",
                "Id": "3",
                "Type": "MESSAGE",
                "ParticipantRole": "CUSTOMER",
            },
            {
                "AbsoluteTime": "2024-04-12T10:00:20.000Z",
                "Content": "Refund sent.",
                "ContentType": "text/plain",
                "Id": "2",
                "Type": "MESSAGE",
                "ParticipantRole": "AGENT",
                "DisplayName": "Ivy",
            },
            {
                "AbsoluteTime": "2024-04-12T10:00:10.000Z",
                "Content": "Refund please",
                "ContentType": "text/plain",
                "Id": "1",
                "Type": "MESSAGE",
                "ParticipantRole": "CUSTOMER",
            },
        ],
        "NextToken": None,
    }
    data = json.dumps(response).encode()
    assert detect_format("transcript", data).name == "connect-chat-json"  # type: ignore[union-attr]
    (conversation,) = _conversations(_read("connect-chat-json", data))
    assert conversation.id == "connect-c-42" and conversation.turns[0].text == "Refund please"


# ---------------------------------------------------------------- Rasa


def test_rasa_trackers_split_sessions_and_keep_intents(ingest, store):
    report = ingest(HERE / "rasa_trackers.json")
    conversations = _by_id(store)
    assert set(conversations) == {"rasa-wa-7d31c9e2-1712744400", "rasa-wa-7d31c9e2-1712831400", "rasa-web-4f2a90"}
    first = conversations["rasa-wa-7d31c9e2-1712744400"]
    assert [t.role for t in first.turns] == ["customer", "bot", "customer", "bot"]  # buttons-only bot event skipped
    assert first.metadata["intents"] == ["report_missing_bag", "inform"] and first.metadata["input_channel"] == "rest"
    assert first.customer_id and first.customer_id.startswith("cust-")
    assert conversations["rasa-web-4f2a90"].metadata["input_channel"] == "socketio"
    assert report.records_rejected == 1 and "without any user or bot message" in _reasons(report)[0]


def test_rasa_action_server_request_wraps_a_tracker():
    request = {
        "next_action": "action_check_refund",
        "sender_id": "u-77",
        "tracker": {
            "conversation_id": "u-77",
            "slots": {},
            "events": [{"event": "user", "timestamp": 1712900000, "text": "refund status?"}],
        },
        "domain": {},
    }
    data = json.dumps(request).encode()
    assert detect_format("req.json", data).name == "rasa-tracker"  # type: ignore[union-attr]
    (conversation,) = _conversations(_read("rasa-tracker", data))
    assert conversation.id == "rasa-u-77" and conversation.turns[0].role == "customer"


# ---------------------------------------------------------------- dialogue corpora


def test_dialogue_corpora_ids_roles_and_metadata(ingest, store):
    report = ingest(
        HERE / "multiwoz_data.json",
        HERE / "sgd_dialogues.json",
        HERE / "taskmaster_dialogs.json",
        HERE / "abcd_splits.json",
    )
    conversations = _by_id(store)
    hotel = conversations["multiwoz-SNG7701"]
    assert [t.role for t in hotel.turns] == ["customer", "agent", "customer", "agent"]
    assert hotel.metadata["domains"] == ["hotel"] and hotel.source == "multiwoz"
    assert conversations["sgd-3_00012"].metadata["services"] == ["Banks_1"]
    assert conversations["multiwoz-PMUL0512"].source == "multiwoz"  # MultiWOZ 2.2 in the SGD shape
    assert [t.role for t in conversations["taskmaster-dlg-00c3d2e1-7a6b-4c5d-8e9f-a0b1c2d3e4f5"].turns] == [
        "customer",
        "agent",
        "customer",
    ]
    abcd = conversations["abcd-8101"]
    assert [t.role for t in abcd.turns] == ["customer", "agent", "customer", "system", "agent"]
    assert abcd.metadata == {"flow": "shipping_issue", "subflow": "status_delivery_time", "split": "train"}
    assert conversations["abcd-8201"].metadata["split"] == "dev"
    reasons = _reasons(report)
    assert report.records_rejected == 4
    assert "unknown speaker 'OPERATOR'" in " ".join(reasons) and "unknown speaker 'narrator'" in " ".join(reasons)


def test_corpus_larger_than_one_record_is_streamed():
    dialogues = [
        {
            "convo_id": n,
            "scenario": {"flow": "order_issue"},
            "original": [["customer", f"order {n} is late " * 20], ["agent", "sorry"]],
        }
        for n in range(60)
    ]
    data = json.dumps({"train": dialogues[:50], "dev": dialogues[50:], "test": []}).encode()
    items = _read("dialogue-corpus-json", data, max_record_bytes=2_000)
    assert len(data) > 2_000 * 10
    assert len(_conversations(items)) == 60 and not [i for i in items if isinstance(i, Rejection)]


# ---------------------------------------------------------------- LivePerson and Twilio


def test_liveperson_conversations_roles_surveys_and_fields(ingest, store):
    report = ingest(HERE / "liveperson_conversations.json")
    conversations = _by_id(store)
    billing = conversations["liveperson-8c2f6a1e-4b3d-4e5f-9a0b-1c2d3e4f5a6b"]
    assert [t.role for t in billing.turns] == ["customer", "agent", "agent", "customer"]  # the photo is not a turn
    assert billing.survey is not None and billing.survey.csat == 4 and billing.survey.nps == 6
    assert billing.team_id == "Billing" and billing.agent_id == "4127880610"
    assert billing.metadata["mcs"] == 42 and billing.metadata["non_text_messages"] == 1
    assert billing.customer_id and billing.customer_id.startswith("cust-")  # ACC-0045721, pseudonymised
    assert billing.turns[1].speaker == "Leah"
    roaming = conversations["liveperson-0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1"]
    assert [t.role for t in roaming.turns] == ["customer", "bot", "customer"] and roaming.team_id is None
    assert report.records_rejected == 1 and "no 'messageRecords'" in _reasons(report)[0]


def test_twilio_pages_in_two_files_make_one_conversation(ingest, store, tmp_path):
    page = json.loads((HERE / "twilio_conversation_messages.json").read_text())
    first, second = dict(page, messages=page["messages"][:3]), dict(page, messages=page["messages"][3:])
    (tmp_path / "page0.json").write_text(json.dumps(first))
    (tmp_path / "page1.json").write_text(json.dumps(second))
    report = ingest(tmp_path / "page0.json", tmp_path / "page1.json")
    (conversation,) = _by_id(store).values()
    assert conversation.source == "twilio-conversations"
    assert [t.role for t in conversation.turns] == ["customer", "system", "agent", "agent", "customer"]
    assert conversation.customer_id and conversation.customer_id.startswith("cust-")
    assert report.records_rejected == 1 and "media only" in _reasons(report)[0]


def test_twilio_message_items_are_thread_messages():
    items = _read("twilio-conversations-json", (HERE / "twilio_conversation_messages.json").read_bytes())
    messages = [i for i in items if isinstance(i, ThreadMessage)]
    assert len(messages) == 5 and {m.parent_keys[0] for m in messages} == {"twilio:CH7e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"}


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize(("path", "format_name"), FILES)
def test_truncated_files_never_raise(path: str, format_name: str):
    data = (HERE / path).read_bytes()
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 7):
        items = _read(format_name, data[:cut], Path(path).name)
        assert items, (path, cut)
        assert all(isinstance(i, Conversation | ThreadMessage | Rejection) for i in items)


PREFIXES = [
    b'[{"type": "message", "ts": "1700000000.000100", "text": ',
    b"12/31/20, 9:41 PM - Sam: ",
    b"[31/12/2020, 21:41:05] Sam: \xe2\x80\x8e",
    b'{"Channel": "CHAT", "Transcript": [{"Content": ',
    b'{"sender_id": "s", "events": [{"event": "user", "text": ',
    b'{"train": [{"convo_id": 1, "original": [[',
    b'{"SNG1.json": {"goal": {}, "log": [{"text": ',
    b'[{"dialogue_id": "1_0", "turns": [{"speaker": ',
    b'{"conversationHistoryRecords": [{"info": {}, "messageRecords": [',
    b'{"messages": [{"sid": "IM1", "conversation_sid": "CH1", "author": ',
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))),
    format_name=st.sampled_from([name for _, name in FILES]),
)
def test_readers_never_raise_on_inputs_that_start_like_their_formats(prefix, body, format_name):
    items = _read(format_name, prefix + body, max_record_bytes=5_000)
    assert all(isinstance(i, Conversation | ThreadMessage | Rejection) for i in items)


def test_contact_lens_streaming_segments_join_into_one_chat(ingest, store, tmp_path):
    def segment(n: int, role: str, name: str, text: str) -> dict[str, object]:
        return {
            "Transcript": {
                "Id": f"seg-{n}",
                "ParticipantId": f"p-{role}",
                "ParticipantRole": role,
                "DisplayName": name,
                "Content": text,
                "ContentType": "text/plain",
                "Time": {"AbsoluteTime": f"2024-04-12T09:00:{n:02d}.000Z"},
                "Sentiment": "NEUTRAL",
            }
        }

    base = {"Version": "2.0.0", "Channel": "CHAT", "AccountId": "111122223333", "ContactId": "c-77"}
    lines = [
        dict(base, StreamingEventType="STARTED", StreamingSettings={"LanguageCode": "en-US"}),
        dict(
            base,
            StreamingEventType="SEGMENTS",
            Segments=[segment(1, "CUSTOMER", "Ola", "My card payment failed twice")],
        ),
        dict(
            base,
            StreamingEventType="SEGMENTS",
            Segments=[
                {
                    "Event": {
                        "Id": "ev-1",
                        "EventType": "application/vnd.amazonaws.connect.event.participant.joined",
                        "ParticipantRole": "AGENT",
                        "Time": {"AbsoluteTime": "2024-04-12T09:00:05.000Z"},
                    }
                },
                segment(9, "AGENT", "Ben", "I've reset the payment limit, please try again"),
            ],
        ),
    ]
    path = tmp_path / "contact-lens-stream.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    assert detect_format(path.name, path.read_bytes()).name == "connect-chat-json"  # type: ignore[union-attr]
    report = ingest(path)
    (conversation,) = _by_id(store).values()
    assert [t.role for t in conversation.turns] == ["customer", "agent"]
    assert conversation.source == "amazon-connect"
    assert _reasons(report) == ["Contact Lens streaming event (STARTED) without chat messages"]


def test_convlab_unified_dialogues_keep_their_dataset():
    dialogue = {
        "dataset": "multiwoz21",
        "data_split": "test",
        "dialogue_id": "multiwoz21-test-7",
        "original_id": "MUL0001.json",
        "domains": ["hotel"],
        "turns": [
            {"speaker": "user", "utterance": "The hotel charged my card twice.", "utt_idx": 0},
            {"speaker": "system", "utterance": "I have refunded the second charge.", "utt_idx": 1},
        ],
    }
    data = json.dumps([dialogue]).encode()
    assert detect_format("test.json", data).name == "dialogue-corpus-json"  # type: ignore[union-attr]
    (conversation,) = _conversations(_read("dialogue-corpus-json", data))
    assert conversation.id == "multiwoz21-test-7" and conversation.source == "multiwoz21"
    assert conversation.metadata == {"services": ["hotel"], "split": "test"}

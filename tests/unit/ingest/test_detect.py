"""Format detection from names and content."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import detect_format

CASES = [
    ("email/thread_1.eml", "eml"),
    ("email/box.mbox", "mbox"),
    ("email/graph.json", "email-json"),
    ("email/messages.jsonl", "email-json"),
    ("chat/native.jsonl", "chat-json"),
    ("chat/intercom.json", "chat-json"),
    ("chat/transcript.txt", "chat-text"),
    ("social/v1.jsonl", "social-json"),
    ("social/v2_page.json", "social-json"),
    ("social/twcs_like.csv", "social-csv"),
    ("calls/aws_items.json", "call-json"),
    ("calls/call_analytics.json", "call-json"),
    ("calls/whisperx.json", "call-json"),
    ("calls/voice.vtt", "vtt"),
    ("calls/prefixed.srt", "srt"),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_detects_each_sample(name, expected):
    path = DATA / name
    found = detect_format(name, path.read_bytes()[:65536])
    assert found is not None and found.name == expected


def test_content_wins_over_a_misleading_extension():
    vtt = (DATA / "calls" / "voice.vtt").read_bytes()
    assert detect_format("captions.txt", vtt).name == "vtt"  # type: ignore[union-attr]
    eml = (DATA / "email" / "thread_1.eml").read_bytes()
    assert detect_format("message.txt", eml).name == "eml"  # type: ignore[union-attr]


def test_channel_override_picks_the_channel_of_a_native_file():
    head = b'{"id": "x", "turns": [{"role": "customer", "text": "hi"}]}'
    assert detect_format("x.json", head, channel="call").name == "call-native"  # type: ignore[union-attr]
    assert detect_format("x.json", head).name == "chat-json"  # type: ignore[union-attr]
    assert detect_format("x.eml", b"From: a@b.c\nSubject: x\n\nhi", channel="call") is None


def test_a_transcript_whose_first_line_starts_with_a_bracketed_time_is_not_taken_for_json():
    head = b"[12:03] Customer: my order is late\n[12:04] Agent: let me check\n"
    assert detect_format("chat.txt", head).name == "chat-text"  # type: ignore[union-attr]
    assert detect_format("data.json", b"[1, 2, 3]") is None

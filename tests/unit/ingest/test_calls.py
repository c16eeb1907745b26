"""Calls: ASR JSON shapes, captions, speaker roles and timing metrics."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from vocmine.ingest.readers.calls import call_metrics
from vocmine.schema import Turn

CALLS = DATA / "calls"


def _one(ingest, store, name):
    report = ingest(CALLS / name)
    assert report.records_stored == 1, report.rejection_samples
    [conversation] = list(store.iter_conversations())
    return conversation


def test_aws_transcribe_items_follow_speaker_segments(ingest, store):
    conversation = _one(ingest, store, "aws_items.json")
    assert conversation.id == "call-job-77"
    assert [(t.role, t.text) for t in conversation.turns] == [
        ("agent", "Thanks for calling."),
        ("customer", "My bill is wrong."),
    ]


def test_aws_call_analytics_roles_are_explicit(ingest, store):
    conversation = _one(ingest, store, "call_analytics.json")
    assert [t.role for t in conversation.turns] == ["agent", "customer"]
    assert conversation.call_metrics is not None and conversation.call_metrics.silence_s == 0.5


def test_whisperx_merges_same_speaker_and_measures_overtalk_and_silence(ingest, store):
    conversation = _one(ingest, store, "whisperx.json")
    assert [t.role for t in conversation.turns] == ["agent", "customer", "agent"]
    assert conversation.turns[1].text == "Hi Tom, my phone has no signal since Monday. and I work from home"
    metrics = conversation.call_metrics
    assert metrics is not None
    assert metrics.duration_s == 14.0
    assert metrics.overtalk_s == 1.0  # 2.0–3.0: both speak
    assert metrics.silence_s == 4.0  # 8.0–12.0: nobody speaks
    assert metrics.talk_time_s == {"agent": 5.0, "customer": 6.0}


def test_vtt_voice_tags(ingest, store):
    conversation = _one(ingest, store, "voice.vtt")
    assert [(t.role, t.speaker) for t in conversation.turns] == [("agent", "Agent Smith"), ("customer", "Customer")]
    assert conversation.turns[1].text == "Hi, my delivery is late. Again."


def test_vtt_without_voice_tags_is_one_unlabelled_voice(ingest, store):
    conversation = _one(ingest, store, "no_voice.vtt")
    assert conversation.metadata == {"speakers_unlabelled": True}
    assert [t.role for t in conversation.turns] == ["customer"]


def test_srt_prefixes_and_bad_srt_rejected(ingest, store):
    conversation = _one(ingest, store, "prefixed.srt")
    assert [t.role for t in conversation.turns] == ["agent", "customer", "agent"]
    report = ingest(CALLS / "bad.srt")
    assert report.records_rejected == 1 and "SRT" in report.rejection_samples[0]["reason"]


def test_overlapping_turns_metrics():
    turns = [
        Turn(role="agent", text="a", start_s=0, end_s=10),
        Turn(role="customer", text="b", start_s=5, end_s=12),
        Turn(role="customer", text="c", start_s=8, end_s=9),  # inside the previous customer turn
        Turn(role="agent", text="d", start_s=20, end_s=25),
    ]
    metrics = call_metrics(turns)
    assert metrics is not None
    assert metrics.duration_s == 25
    assert metrics.talk_time_s == {"agent": 15, "customer": 7}
    assert metrics.overtalk_s == 5  # 5–10
    assert metrics.silence_s == 8  # 12–20
    assert metrics.overtalk_share == pytest.approx(0.2)


def test_untimed_turns_have_no_metrics():
    assert call_metrics([Turn(role="customer", text="x")]) is None


def test_aws_channel_identification_for_stereo_recordings(ingest, store):
    conversation = _one(ingest, store, "aws_stereo_channels.json")
    assert [(t.role, t.speaker, t.text) for t in conversation.turns] == [
        ("agent", "ch_0", "Hello."),
        ("customer", "ch_1", "My router"),
    ]

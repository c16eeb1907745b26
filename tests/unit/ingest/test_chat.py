"""Chat transcripts: vocmine JSONL, Intercom, ABCD-shaped JSON and plain-text transcripts."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, SHARED_DATA

CHAT = DATA / "chat"


def _by_id(store):
    return {c.id: c for c in store.iter_conversations()}


def test_native_jsonl_keeps_good_lines_and_rejects_bad_ones(ingest, store):
    report = ingest(CHAT / "native.jsonl")
    assert report.records_read == 4 and report.records_stored == 2 and report.records_rejected == 2
    positions = {r["position"]: r["reason"] for r in report.rejection_samples}
    assert "nps" in positions["line 2"]  # NPS 14 is out of range
    assert positions["line 5"].startswith("truncated JSON")
    conversation = _by_id(store)["c-1"]
    assert conversation.survey is not None and conversation.survey.nps == 9
    assert conversation.team_id == "billing" and conversation.agent_id == "a.jones"
    assert [t.role for t in conversation.turns] == ["customer", "agent", "customer"]  # "speaker": "Customer"
    assert conversation.started_at is not None and conversation.started_at.isoformat() == "2024-09-01T10:00:00+00:00"


def test_intercom_roles_notes_html_and_rating(ingest, store):
    ingest(CHAT / "intercom.json")
    conversation = _by_id(store)["intercom-9001"]
    assert [t.role for t in conversation.turns] == ["customer", "agent", "system", "customer"]
    assert conversation.turns[0].text == "My subscription renewed but I cancelled it last month."
    assert conversation.survey is not None and conversation.survey.csat == 5
    assert conversation.customer_id and conversation.customer_id.startswith("cust-")


def test_abcd_dialogue_actions_become_system_turns_and_pii_is_redacted(ingest, store):
    ingest(CHAT / "abcd_like.json")
    conversation = _by_id(store)["abcd-3592"]
    assert [t.role for t in conversation.turns] == ["agent", "customer", "system", "customer"]
    assert conversation.turns[-1].text == "My email is [EMAIL]"
    assert conversation.metadata["subflow"] == "return_size"


def test_text_transcript_times_multiline_turns_headers_and_separator(ingest, store):
    report = ingest(CHAT / "transcript.txt")
    assert report.records_stored == 2
    conversations = _by_id(store)
    first = conversations["chat-4711"]
    assert first.team_id == "support"
    assert [t.role for t in first.turns] == ["customer", "agent", "customer", "agent", "customer"]
    assert first.turns[0].text.endswith("Also the router light is red.")
    assert first.turns[0].timestamp is not None and first.turns[0].timestamp.isoformat() == "2024-09-03T09:15:02+00:00"
    assert first.turns[2].text == "Note: I already restarted it twice."


def test_text_without_speakers_is_rejected(ingest):
    report = ingest(CHAT / "no_speakers.txt")
    assert report.records_rejected == 1 and report.records_stored == 0
    assert "Speaker" in report.rejection_samples[0]["reason"]


@pytest.mark.integration
@pytest.mark.skipif(not (SHARED_DATA / "abcd_sample").exists(), reason="../shared/data is not beside the checkout")
def test_real_abcd_dialogues(ingest, store):
    report = ingest(SHARED_DATA / "abcd_sample" / "abcd_sample.json")
    assert report.records_read == 3 and report.records_stored == 3
    for conversation in store.iter_conversations():
        assert {t.role for t in conversation.turns} == {"agent", "customer", "system"}
        assert conversation.metadata["flow"] and conversation.customer_id.startswith("cust-")

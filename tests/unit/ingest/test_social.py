"""Social posts: API v1.1/v2 JSON, CSV quirks, TWCS threads, brand accounts."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, SHARED_DATA

SOCIAL = DATA / "social"


def test_v1_reply_chain_with_brand_account_and_retweet_rejected(ingest, store):
    report = ingest(SOCIAL / "v1.jsonl")
    assert report.records_read == 4 and report.records_rejected == 1
    assert "retweet" in report.rejection_samples[0]["reason"]
    [conversation] = list(store.iter_conversations())
    assert [t.role for t in conversation.turns] == ["customer", "agent", "customer"]
    assert conversation.brand == "AcmeHelp"
    assert conversation.turns[2].text == "@AcmeHelp done, sent the DM"  # extended_tweet.full_text wins
    assert "[PHONE]" in conversation.turns[0].text
    assert conversation.turns[1].text.startswith("@[USER]")  # the customer's handle is redacted


def test_v2_page_resolves_usernames(ingest, store):
    ingest(SOCIAL / "v2_page.json")
    [conversation] = list(store.iter_conversations())
    assert [t.speaker for t in conversation.turns][1] == "AcmeHelp"
    assert [t.role for t in conversation.turns] == ["customer", "agent"]


def test_csv_embedded_newlines_stray_carriage_returns_and_short_rows(ingest, store):
    report = ingest(SOCIAL / "posts_quirks.csv")
    assert report.records_read == 4 and report.records_stored == 2 and report.records_rejected == 2
    rejected = {r["position"]: r["reason"] for r in report.rejection_samples}
    assert rejected["line 5"] == "expected 5 fields, found 3"
    assert rejected["line 7"] == "post has no author"
    [conversation] = list(store.iter_conversations())
    assert conversation.turns[0].text == "line one\nline two of a quoted field"
    assert conversation.turns[1].text == "reply with a stray carriage return"


def test_twcs_inbound_flag_decides_roles(ingest, store):
    report = ingest(SOCIAL / "twcs_like.csv")
    assert report.records_rejected == 1  # inbound "maybe"
    [conversation] = list(store.iter_conversations())
    assert [t.role for t in conversation.turns] == ["customer", "agent", "customer"]
    assert conversation.brand == "sprintcare"
    assert "@sprintcare" in conversation.turns[0].text  # brand handles found in the data are kept


@pytest.mark.integration
@pytest.mark.skipif(not (SHARED_DATA / "twcs_sample").exists(), reason="../shared/data is not beside the checkout")
def test_real_twcs_sample_becomes_customer_brand_threads(ingest, store):
    report = ingest(SHARED_DATA / "twcs_sample" / "twcs_first5000.csv")
    assert report.records_read == 5000 and report.accounted()
    assert report.records_rejected == 0
    stats = store.stats()
    assert stats.turns == 5000 and stats.customer_turns == 2778
    conversations = list(store.iter_conversations())
    with_both = [c for c in conversations if {t.role for t in c.turns} == {"customer", "agent"}]
    assert len(with_both) / len(conversations) > 0.9
    assert all(c.brand for c in with_both)

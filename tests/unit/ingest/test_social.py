"""Social posts: API v1.1/v2 JSON, CSV quirks, TWCS threads, brand accounts."""

from __future__ import annotations

import tracemalloc

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


def test_a_csv_line_or_field_over_the_record_limit_is_rejected_without_being_held_whole(settings, store, tmp_path):
    from vocmine.services.ingestion import ingest_paths

    # Language detection off: its model (~100 MB, loaded once) is not what is measured here.
    limited = settings.model_copy(update={"max_record_bytes": 10_000, "detect_language": False})
    # One line far over the limit, and a quoted field whose lines are each under it but not together.
    huge = "x" * 3_000_000
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,author,text,created_at,in_reply_to\n"
        "1,alice,first post,2024-01-01T10:00:00Z,\n"
        f"2,bob,{huge},2024-01-01T10:01:00Z,\n"
        "3,carol,after the long line,2024-01-01T10:02:00Z,\n"
        f'4,dave,"{huge[:6_000]}\n{huge[:6_000]}",2024-01-01T10:03:00Z,\n'
        "5,erin,last post,2024-01-01T10:04:00Z,\n"
        f"6,frank,{huge},2024-01-01T10:05:00Z,\n",
        encoding="utf-8",
    )
    tracemalloc.start()
    report = ingest_paths([str(path)], limited, store, report_dir=tmp_path / "reports")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.accounted() and report.records_stored == 3
    reasons = {r["position"]: r["reason"] for r in report.rejection_samples}
    assert "10,000-byte limit" in reasons["line 3"] and "10,000-byte limit" in reasons["line 8"]
    assert any("field larger than field limit" in reason for reason in reasons.values()), reasons
    texts = sorted(t.text for c in store.iter_conversations() for t in c.turns)
    assert texts == ["after the long line", "first post", "last post"]
    assert peak < 2_500_000, peak  # no 3 MB line was ever held whole (before: the line and its copies)

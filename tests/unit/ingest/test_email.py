"""E-mail parsing: charsets, MIME structures, quotes and signatures, threading, roles."""

from __future__ import annotations

import json

from tests.conftest import DATA
from vocmine.ingest.readers.mail_quotes import strip_quotes_and_signature

EMAIL = DATA / "email"


def _only(store):
    conversations = list(store.iter_conversations())
    assert len(conversations) == 1
    return conversations[0]


def test_wrong_declared_charset_is_decoded_by_detection(ingest, store):
    ingest(EMAIL / "latin1_wrong_charset.eml")
    conversation = _only(store)
    assert conversation.subject == "Factura errónea"  # RFC 2047 encoded-word header
    assert "la factura está mal" in conversation.turns[0].text
    assert conversation.language == "es"


def test_unknown_charset_does_not_lose_the_message(ingest, store):
    report = ingest(EMAIL / "unknown_charset.eml")
    assert report.records_stored == 1
    assert "parcel never arrived" in _only(store).turns[0].text


def test_html_only_body_becomes_text_and_utf8_subject_decodes(ingest, store):
    ingest(EMAIL / "html_only.eml")
    conversation = _only(store)
    text = conversation.turns[0].text
    assert "I returned the blender three weeks ago & I am still waiting for my refund." in text
    assert "<" not in text and "color: red" not in text
    assert conversation.subject == "Where is my refund? 😡"


def test_multipart_prefers_plain_text_and_ignores_attachments(ingest, store):
    ingest(EMAIL / "multipart_alternative.eml")
    assert _only(store).turns[0].text == (
        "The app crashes when I open my orders page. It started after the last update."
    )


def test_attachment_only_message_is_rejected_with_reason(ingest, store):
    report = ingest(EMAIL / "attachment_only.eml")
    assert report.records_rejected == 1
    assert "no text body" in report.rejection_samples[0]["reason"]
    assert list(store.iter_conversations()) == []


def test_thread_is_assembled_across_files_with_quotes_removed(ingest, store):
    report = ingest(*sorted(EMAIL.glob("thread_*.eml")))
    assert report.records_stored == 4 and report.conversations["new"] == 1
    conversation = _only(store)
    assert [t.role for t in conversation.turns] == ["customer", "agent", "customer", "customer"]
    agent, reply, fallback = conversation.turns[1], conversation.turns[2], conversation.turns[3]
    # Outlook "-----Original Message-----" block and the valediction signature are cut.
    assert agent.text == "Hi Erin, sorry about that. I have refunded the duplicate payment."
    assert agent.speaker == "sam.lee" and conversation.agent_id == "sam.lee"
    # Nested ">" quotes, a wrapped "On … wrote:" line and "Sent from my iPhone" are cut.
    assert reply.text == "The refund has not arrived yet. This is getting ridiculous."
    assert "wrote:" in (reply.raw_text or "")
    # A reply without thread headers joins by subject and customer.
    assert fallback.text == "Still nothing. I want to speak to a manager."
    assert conversation.subject == "Charged twice for order 8812"


def test_customer_addresses_and_phone_numbers_never_reach_the_store(ingest, store, tmp_path):
    ingest(*sorted(EMAIL.glob("thread_*.eml")))
    raw = (tmp_path / "store.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in (tmp_path / "store.sqlite").parent.glob("store.sqlite*")
    )
    assert b"erin@example.com" not in raw
    assert b"07700 900456" not in raw
    conversation = _only(store)
    assert conversation.customer_id and conversation.customer_id.startswith("cust-")
    assert "[PHONE]" in conversation.turns[0].text


def test_reply_in_a_later_run_joins_the_stored_thread(ingest, store):
    ingest(EMAIL / "thread_1.eml", EMAIL / "thread_2.eml")
    first = _only(store)
    report = ingest(EMAIL / "thread_3.eml")
    assert report.conversations["updated"] == 1 and report.records_stored == 1
    conversation = _only(store)
    assert conversation.id == first.id
    assert len(conversation.turns) == 3


def test_mbox_is_split_unescaped_and_bad_messages_rejected(ingest, store):
    report = ingest(EMAIL / "box.mbox")
    assert report.records_read == 4
    assert report.records_rejected == 1
    assert report.rejection_samples[0]["position"].startswith("message 2 at byte")
    texts = {t.text for c in store.iter_conversations() for t in c.turns}
    assert "The kettle stopped working after two days.\nFrom now on I will buy elsewhere." in texts
    kettle = next(c for c in store.iter_conversations() if c.subject == "Broken kettle")
    assert [t.role for t in kettle.turns] == ["customer", "agent"]


def test_json_exports_vocmine_and_graph_shapes(ingest, store):
    report = ingest(EMAIL / "graph.json", EMAIL / "messages.jsonl")
    assert report.records_rejected == 2  # a bad date and an empty message, each with its line
    reasons = [r["reason"] for r in report.rejection_samples]
    assert any("not a date" in r for r in reasons)
    graph = next(c for c in store.iter_conversations() if c.subject == "Invoice question")
    assert [t.role for t in graph.turns] == ["customer", "agent"]
    assert graph.turns[0].text == "Why did my invoice go up by 20%?"
    late = next(c for c in store.iter_conversations() if c.subject == "Late")
    assert late.survey is not None and late.survey.nps == 3


def test_reingesting_changes_nothing(ingest, store):
    first = ingest(EMAIL)
    second = ingest(EMAIL)
    assert second.records_stored == 0
    assert second.conversations["new"] == 0 and second.conversations["updated"] == 0
    assert second.records_duplicate == first.records_stored
    assert second.accounted()


def test_rejections_file_lists_every_rejection(ingest):
    report = ingest(EMAIL)
    with open(report.rejections_path, encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert len(lines) == report.records_rejected
    assert all({"file", "position", "reason"} <= set(line) for line in lines)


def test_quote_and_signature_rules():
    body = (
        "Thanks for the quick answer.\n\n"
        "> old line\n"
        "Inline answer here.\n"
        "> another old line\n\n"
        "Best regards,\nJane Doe\nHead of Things\n+1 415 555 0100"
    )
    assert strip_quotes_and_signature(body) == "Thanks for the quick answer.\n\nInline answer here."
    german = "Das ist kaputt.\n\nAm 3. September 2024 um 10:00 schrieb Support <s@x.de>:\n> alt"
    assert strip_quotes_and_signature(german) == "Das ist kaputt."
    separator = "Fine.\n\n________________________________\nFrom: A <a@x.com>\nSent: today\nTo: B\nSubject: x\n\nold"
    assert strip_quotes_and_signature(separator) == "Fine."
    assert strip_quotes_and_signature("Thanks!") == "Thanks!"  # a one-line thank-you is the message


def test_unescaped_from_line_in_a_body_is_not_a_new_message(ingest, store, tmp_path):
    box = tmp_path / "mboxo.mbox"
    box.write_text(
        "From someone@example.com Sun Aug  7 11:40:37 2022\n"
        "From: someone@example.com\nSubject: Opening hours\n\nHello\n\nFrom time to time the shop is closed.\n",
        encoding="utf-8",
    )
    report = ingest(box)
    assert report.records_read == 1 and report.records_stored == 1
    [conversation] = list(store.iter_conversations())
    assert conversation.turns[0].text == "Hello\n\nFrom time to time the shop is closed."

"""Personal data in identifiers and speaker labels: redacted on every path (the CLI's readers, the
API's batch), by the one step every conversation passes (``vocmine.ingest.prepare``)."""

from __future__ import annotations

import json

from vocmine.services.uploads import ingest_batch

EMAIL = "jane.doe.piitest@example.org"
PHONE = "415 555 2671"


def _record() -> dict[str, object]:
    return {
        "id": f"chat-{EMAIL}",
        "channel": "chat",
        "source": "helpdesk-export",
        "customer_id": EMAIL,
        "agent_id": f"agent {PHONE}",
        "account_id": "ACC-1001",  # holds nothing personal: kept, so it still joins the CRM
        "metadata": {"contact": f"{EMAIL}, thanks"},
        "turns": [
            {"key": f"msg-{EMAIL}", "role": "customer", "speaker": f"Jane Doe <{EMAIL}>", "text": "My bill is wrong."},
            {"role": "agent", "speaker": f"Sam <sam@acme.com>, {PHONE}", "text": "Let me check."},
            {"role": "customer", "speaker": "Customer", "text": "Thanks."},
        ],
    }


def _assert_no_raw_pii(store, tmp_path) -> None:
    # The database and its write-ahead log (recent writes live there until a checkpoint), and the reports.
    files = [*tmp_path.glob("store.sqlite*"), *tmp_path.glob("reports/**/*")]
    raw = b"".join(f.read_bytes() for f in files if f.is_file())
    for value in (EMAIL, "jane.doe", PHONE, "Jane Doe", "sam@acme.com"):
        assert value.encode() not in raw, value


def test_the_api_batch_path_redacts_every_identifier(settings, store, tmp_path):
    [result] = ingest_batch([_record()], settings, store, analyzer=None)
    assert result.outcome == "stored" and result.id is not None and result.id.startswith("conv-")
    conversation = store.get_conversations([result.id])[result.id]
    assert conversation.customer_id is not None and conversation.customer_id.startswith("cust-")
    assert conversation.agent_id is not None and conversation.agent_id.startswith("agent-")
    assert conversation.account_id == "ACC-1001"
    first, agent, last = conversation.turns
    assert first.speaker is not None and first.speaker.startswith("cust-") and first.key.startswith("turn-")
    assert agent.speaker == "Sam <[EMAIL]>, [PHONE]"  # an agent keeps their name (coaching), not contacts
    assert last.speaker == "Customer"  # a role label names no one
    _assert_no_raw_pii(store, tmp_path)

    # The same input maps to the same ids: sending it again changes nothing.
    [again] = ingest_batch([_record()], settings, store, analyzer=None)
    assert again.id == result.id and again.outcome == "duplicate"


def test_the_cli_path_redacts_every_identifier_and_pseudonyms_agree(ingest, settings, store, tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(_record()) + "\n", encoding="utf-8")
    report = ingest(path)
    assert report.conversations["new"] == 1
    [conversation] = store.iter_conversations()
    assert conversation.customer_id is not None and conversation.customer_id.startswith("cust-")
    [api_side] = ingest_batch([_record()], settings, store, analyzer=None)
    assert api_side.id == conversation.id  # both paths make the same pseudonymous id
    _assert_no_raw_pii(store, tmp_path)

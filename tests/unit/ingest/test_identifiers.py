"""Personal data in identifiers and speaker labels: redacted on every path (the CLI's readers, the
API's batch), by the one step every conversation passes (``vocmine.ingest.prepare``)."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from vocmine.ingest.prepare import _HASHED_ID
from vocmine.ingest.redact import Redactor
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


HEX_IDS = st.builds(
    lambda prefix, digest: f"{prefix}-{digest}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
    st.text(alphabet="0123456789abcdef", min_size=16, max_size=64)
    | st.text(alphabet="0123456789", min_size=16, max_size=64),  # all digits: a card's length, Luhn or not
)


@settings(max_examples=2000, deadline=None)
@given(HEX_IDS)
@example("tel-4111111111111111")  # a valid test card number, after an announcing word
@example("phone-4416329609610001")
@example("call-0123456789abcdef")
@example("number-12345678901234567890")
def test_ids_made_from_hashes_hold_nothing_redaction_finds(value: str) -> None:
    """Why prepare skips redacting them: every kind, with announcing words in the prefix ("tel",
    "phone", "call") too, leaves such an id as it is."""
    assert _HASHED_ID.match(value)
    redactor = Redactor(keep_handles=())
    assert redactor.redact(value) == value
    assert not redactor.counts


def test_ids_with_other_shapes_are_still_checked() -> None:
    for value in ("chat-jane@example.org", "tel-4155552671", "mid-3f2a 415 555 2671", "MID-3F2A9C01B2D4E6F8"):
        assert not _HASHED_ID.match(value)

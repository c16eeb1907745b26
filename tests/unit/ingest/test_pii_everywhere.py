"""Property: personal data planted in any field of a conversation, next to any punctuation or at
either end of the value, never reaches the store, the reports or the logs unredacted, whichever path
it comes in by (the CLI's readers or the API's batch).

Hypothesis chooses the kind of personal data, the value, the field and the surroundings; each
example runs on a fresh store and report folder."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocmine.services.ingestion import ingest_paths
from vocmine.services.uploads import ingest_batch
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore

# Values of each kind the redactor knows, in the shapes customers and exports write them.
EMAILS = st.builds(
    "{}.{}@{}.{}".format,
    st.sampled_from(["jane", "mo", "li-wei", "o'brien"]),
    st.sampled_from(["doe", "smith77", "x"]),
    st.sampled_from(["example", "mail-host", "corp"]),
    st.sampled_from(["org", "co.uk", "com"]),
)
PHONES = st.sampled_from(
    ["(415) 555-0199", "+44 20 7946 0958", "07911 123456", "415 555 2671", "+1-202-555-0143", "020 7946 0958"]
)
CARDS = st.sampled_from(["4111 1111 1111 1111", "5500-0000-0000-0004", "4012888888881881"])
IBANS = st.sampled_from(["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"])
SSNS = st.sampled_from(["536-90-4399", "401-33-5678"])  # valid numbers: published ones are not redacted
PII = st.one_of(EMAILS, PHONES, CARDS, IBANS, SSNS)

# Where a value may sit: every field of the native conversation JSON that a person's data can end up in.
FIELDS = [
    "id",
    "customer_id",
    "agent_id",
    "team_id",
    "account_id",
    "subject",
    "metadata",
    "turn_key",
    "speaker",
    "agent_speaker",
    "text",
    "agent_text",
]
LEFT = st.sampled_from(["", " ", "call ", "(", "<", '"', "mail:", "ref "])
RIGHT = st.sampled_from(["", ",", ".", ";", ")", ">", "!", " ok", ", thanks"])


def _record(field: str, value: str) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "chat-1001",
        "channel": "chat",
        "source": "helpdesk-export",
        "subject": "Billing question",
        "metadata": {"queue": "billing"},
        "turns": [
            {"key": "msg-1", "role": "customer", "speaker": "Customer", "text": "My bill is wrong."},
            {"key": "msg-2", "role": "agent", "speaker": "Sam", "text": "Let me check."},
        ],
    }
    turns: list[dict[str, str]] = record["turns"]  # type: ignore[assignment]
    if field == "metadata":
        record["metadata"] = {"queue": "billing", "contact": value}
    elif field == "turn_key":
        turns[0]["key"] = value
    elif field == "speaker":
        turns[0]["speaker"] = value
    elif field == "agent_speaker":
        turns[1]["speaker"] = value
    elif field == "text":
        turns[0]["text"] = f"My bill is wrong {value}"
    elif field == "agent_text":
        turns[1]["text"] = f"Let me check {value}"
    else:
        record[field] = value
    return record


def _leaks(folder: Path, raw: str, logged: str) -> list[str]:
    """Where ``raw`` (or its digits alone, for numbers) still shows."""
    needles = {raw}
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) >= 9:
        needles.add(digits)
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.name}: {n}" for n in needles if n.encode() in content]
    found += [f"log: {n}" for n in needles if n in logged]
    return found


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=PII, field=st.sampled_from(FIELDS), left=LEFT, right=RIGHT, path=st.sampled_from(["cli", "api"]))
def test_personal_data_in_any_field_never_reaches_the_store_reports_or_logs(value, field, left, right, path):
    planted = f"{left}{value}{right}"
    capture = _Capture()
    logging.getLogger().addHandler(capture)
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = Settings(store=f"sqlite:///{folder / 'store.sqlite'}", report_dir=str(folder / "reports"))
            store = SQLiteStore(str(folder / "store.sqlite"))
            try:
                record = _record(field, planted)
                if path == "cli":
                    source = folder / "in" / "export.jsonl"
                    source.parent.mkdir()
                    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
                    ingest_paths([str(source)], config, store, report_dir=folder / "reports")
                    source.unlink()  # the input itself holds the value, of course
                else:
                    ingest_batch([record], config, store, analyzer=None)
            finally:
                store.close()
            leaks = _leaks(folder, value, "\n".join(capture.lines))
    finally:
        logging.getLogger().removeHandler(capture)
        logging.getLogger().setLevel(previous_level)
    assert not leaks, f"{value!r} planted as {planted!r} in {field} ({path}) leaked: {leaks}"

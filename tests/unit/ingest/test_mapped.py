"""Any CSV or JSON export through a mapping file: the documented examples, and every error named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from vocmine.errors import ConfigError
from vocmine.ingest.mapping import load_mapping

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "mappings"
MAPPED = DATA / "mapped"


def _by_id(store):
    return {c.id: c for c in store.iter_conversations()}


def test_helpdesk_csv_rows_become_ordered_tickets_with_roles_and_scores(ingest, store):
    report = ingest(MAPPED / "helpdesk_messages.csv", mapping=load_mapping(EXAMPLES / "helpdesk.toml"))
    assert report.accounted()
    assert report.records_stored == 2 and report.records_rejected == 2
    tickets = _by_id(store)
    first = tickets["helpdesk-T-1001"]
    assert first.channel == "email" and first.source == "helpdesk"
    assert [t.role for t in first.turns] == ["customer", "agent", "customer"]  # by "Message #", not file order
    assert first.turns[0].text.startswith("Hello, my card was charged twice")
    assert first.survey is not None and first.survey.csat == 4
    assert (first.agent_id, first.team_id, first.subject) == ("priya.s", "billing", "Charged twice for February")
    assert first.metadata == {"Priority": "high", "Tags": "billing;refund"}
    assert first.turns[0].timestamp.day == 3 and first.turns[0].timestamp.month == 2  # time_format is d/m
    second = tickets["helpdesk-T-1002"]
    assert second.channel == "chat" and [t.role for t in second.turns] == ["customer", "bot", "agent"]
    reasons = sorted(r["reason"] for r in report.rejection_samples)
    assert reasons[0].startswith("no text in 'Message'")
    assert reasons[1].startswith("role value 'vip' is not in the mapping's [roles]")


def test_survey_export_respondents_become_conversations_with_nps(ingest, store):
    report = ingest(MAPPED / "nps_survey.csv", mapping=load_mapping(EXAMPLES / "survey.toml"))
    assert report.accounted() and report.records_stored == 3 and report.records_rejected == 2
    answers = _by_id(store)
    detractor = answers["nps-survey-R-501"]
    assert detractor.survey is not None and detractor.survey.nps == 2  # "2 - Not at all likely"
    assert [t.role for t in detractor.turns] == ["customer", "customer"]
    assert detractor.product == "Premium" and detractor.metadata["Region"] == "North"
    assert answers["nps-survey-R-505"].survey.nps == 10
    reasons = " | ".join(r["reason"] for r in report.rejection_samples)
    assert "nps 'ten' is not a number" in reasons and "no text in" in reasons


def test_a_column_the_file_lacks_is_named_with_the_columns_it_has(ingest, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\ntext = "Body"\nconversation_id = "Case Number"\n')
    report = ingest(MAPPED / "nps_survey.csv", mapping=load_mapping(mapping))
    [rejection] = report.rejection_samples
    assert "no column 'Case Number' (fields.conversation_id), 'Body' (fields.text)" in rejection["reason"]
    assert "Response ID" in rejection["reason"]


def test_json_records_with_nested_messages(ingest, store, tmp_path):
    export = {
        "data": {
            "items": [
                {
                    "case": {"number": "C-9"},
                    "customer": {"tier": "gold"},
                    "rating": 3,
                    "messages": [
                        {"from": {"kind": "agent"}, "body": "<p>We have <b>restored</b> your line.</p>", "seq": 2},
                        {"from": {"kind": "customer"}, "body": "No dial tone since Monday.", "seq": 1},
                    ],
                },
                {"case": {"number": "C-10"}, "messages": []},
            ]
        }
    }
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(export))
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'source = "crm"\nrecords = "data.items"\nturns = "messages"\n'
        '[fields]\nconversation_id = "case.number"\ntext = "body"\nrole = "from.kind"\norder = "seq"\n'
        'csat = "rating"\nmetadata = ["customer.tier"]\n'
    )
    report = ingest(path, mapping=load_mapping(mapping))
    assert report.accounted() and report.records_stored == 1 and report.records_rejected == 1
    [case] = store.iter_conversations()
    assert case.id == "crm-C-9" and [t.role for t in case.turns] == ["customer", "agent"]
    assert case.turns[1].text == "We have restored your line."
    assert case.survey.csat == 3 and case.metadata == {"customer.tier": "gold"}
    assert "no list of messages at 'messages'" in report.rejection_samples[0]["reason"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('channel = "chat"\n', "fields is missing"),
        (
            "[fields]\nconversation_id = 'x'\n",
            "fields.text is missing (the column or path that holds the message text)",
        ),
        ('[fields]\ntext = "t"\nconversation = "x"\n', "fields.conversation is not a mapping key"),
        ('channel = "fax"\n[fields]\ntext = "t"\n', "channel: Input should be"),
        ('[fields]\ntext = "t"\n[roles]\nclient = "buyer"\n', "roles.client: Input should be"),
        ("[fields\n", "is not valid TOML"),
    ],
)
def test_mapping_errors_name_the_key_to_change(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert message in str(caught.value)


def test_map_and_format_together_are_refused(ingest):
    with pytest.raises(ConfigError, match="give one of them"):
        ingest(MAPPED / "nps_survey.csv", mapping=load_mapping(EXAMPLES / "survey.toml"), format_name="social-csv")

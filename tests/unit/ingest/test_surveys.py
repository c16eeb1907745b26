"""Survey exports are recognised by their columns and become respondents' conversations with scores."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import detect_format

SURVEYS = DATA / "surveys"


def _by_id(store):
    return {c.id: c for c in store.iter_conversations()}


def test_each_survey_layout_is_detected_by_content():
    for name in ("qualtrics_nps.csv", "surveymonkey_csat.csv", "typeform_ces.csv"):
        head = (SURVEYS / name).read_bytes()[:65536]
        assert detect_format("export.csv", head).name == "survey-csv", name  # type: ignore[union-attr]
        assert detect_format("download", head).name == "survey-csv", name  # type: ignore[union-attr]
    twcs = (DATA / "social" / "twcs_like.csv").read_bytes()
    assert detect_format("x.csv", twcs).name == "social-csv"  # type: ignore[union-attr]


def test_qualtrics_three_header_rows_scores_and_no_personal_columns(ingest, store):
    report = ingest(SURVEYS / "qualtrics_nps.csv")
    # the third respondent gave a score and no text: nothing to analyse, rejected with the reason
    assert report.accounted() and report.records_stored == 2 and report.records_rejected == 1
    assert "no text in" in report.rejection_samples[0]["reason"]
    answers = _by_id(store)
    detractor = answers["survey-R_1a2B3c4D5e6F7g8"]
    assert detractor.channel == "chat" and detractor.source == "survey"
    assert detractor.survey.nps == 3
    assert detractor.turns[0].text.startswith("The router drops the connection")
    assert detractor.metadata == {"UserLanguage": "EN", "Q1_NPS_GROUP": "Detractor", "Plan": "Fibre 500"}
    # times are in the account's zone, named in the ImportId row (America/Denver is UTC-6 in April)
    assert detractor.started_at.astimezone(UTC) == datetime(2025, 4, 2, 15, 3, 40, tzinfo=UTC)
    promoter = answers["survey-R_2b3C4d5E6f7G8h9"]
    assert [t.text for t in promoter.turns] == [
        "Installation was quick and the engineer explained everything.",
        "Keep it up!",
    ]


def test_surveymonkey_second_header_row_is_skipped_and_us_times_read(ingest, store):
    report = ingest(SURVEYS / "surveymonkey_csat.csv")
    assert report.accounted() and report.records_stored == 2 and report.records_rejected == 1
    unhappy = _by_id(store)["survey-114302837465"]
    assert unhappy.survey.csat == 2
    assert unhappy.started_at == datetime(2025, 4, 5, 11, 4, 2, tzinfo=UTC)
    assert unhappy.metadata == {"Custom Data 1": "store-17", "Which product did you contact us about?": "Mobile plan"}


def test_an_out_of_range_score_rejects_its_respondent(ingest, store):
    report = ingest(SURVEYS / "typeform_ces.csv")
    assert report.accounted() and report.records_stored == 2 and report.records_rejected == 1
    assert "ces" in report.rejection_samples[0]["reason"]
    assert _by_id(store)["survey-a8f3k2"].survey.ces == 2


def test_a_forced_survey_format_on_other_columns_says_to_map_it(ingest):
    report = ingest(DATA / "social" / "twcs_like.csv", format_name="survey-csv")
    [rejection] = report.rejection_samples
    assert "--map" in rejection["reason"]

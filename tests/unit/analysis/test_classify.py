"""vocmine classify: every input record gets one output line, in order, scored or with its error."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vocmine.analysis.classify import classify_file
from vocmine.cli.main import app
from vocmine.errors import ConfigError


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_text_input_keeps_order_and_reports_empty_lines(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("I want to speak to a manager now\n\nGreat service, thanks!\n", encoding="utf-8")
    counts = classify_file("signals", source, tmp_path / "out.jsonl")
    rows = _lines(tmp_path / "out.jsonl")
    assert counts == {"scored": 2, "errors": 1}
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert rows[0]["flags"][0]["signal"] == "escalation"
    assert rows[0]["flags"][0]["evidence"][0]["text"] == "speak to a manager"
    assert rows[1] == {"line": 2, "error": "empty text"}
    assert rows[2]["flags"][0]["signal"] == "strong_praise"


def test_csv_with_embedded_newlines_and_jsonl_with_bad_lines(tmp_path):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text('id,comment\n1,"On hold for 2 hours,\nthen cut off"\n2,fine\n', encoding="utf-8")
    classify_file("signals", csv_file, tmp_path / "a.jsonl", text_column="comment")
    rows = _lines(tmp_path / "a.jsonl")
    assert len(rows) == 2 and rows[0]["flags"][0]["signal"] == "high_effort"
    jsonl = tmp_path / "export.jsonl"
    jsonl.write_text('{"body": "ok"}\n{oops\n{"other": 1}\n{"body": 5}\n', encoding="utf-8")
    counts = classify_file("signals", jsonl, tmp_path / "b.jsonl", text_field="body")
    assert counts == {"scored": 1, "errors": 3}
    assert [r.get("error", "")[:12] for r in _lines(tmp_path / "b.jsonl")] == [
        "",
        "invalid JSON",
        "no field 'bo",
        "text is int,",
    ]


def test_usage_errors_say_what_to_change(tmp_path):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text("id,comment\n1,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="text-column"):
        classify_file("signals", csv_file, tmp_path / "o.jsonl")
    with pytest.raises(ConfigError, match="no column 'text'"):
        classify_file("signals", csv_file, tmp_path / "o.jsonl", text_column="text")
    with pytest.raises(ConfigError, match="unknown task"):
        classify_file("topics", csv_file, tmp_path / "o.jsonl", text_column="comment")
    result = CliRunner().invoke(
        app,
        [
            "classify",
            "--task",
            "signals",
            "--input",
            str(tmp_path / "missing.txt"),
            "--output",
            str(tmp_path / "o.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "does not exist" in result.output


def test_journey_task_labels_each_text(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(
        "How much is your cheapest plan? Comparing a few options.\n"
        "My broadband keeps dropping every evening, can you help?\n"
    )
    classify_file("journey", source, tmp_path / "out.jsonl")
    rows = _lines(tmp_path / "out.jsonl")
    assert [r["label"] for r in rows] == ["consideration", "support"]
    assert all(0 <= r["confidence"] <= 1 and r["model_version"] for r in rows)


def test_sentiment_task(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"t": "Brilliant service, thank you!"}\n{"t": "Terrible, my bag is lost again."}\n')
    classify_file("sentiment", source, tmp_path / "out.jsonl", text_field="t")
    rows = _lines(tmp_path / "out.jsonl")
    assert [r["label"] for r in rows] == ["positive", "negative"]
    assert rows[0]["score"] > 0 > rows[1]["score"]


def test_a_text_in_a_language_the_models_do_not_read_is_labelled_so(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(
        "C'est inadmissible, cela fait trois semaines que j'attends mon remboursement.\n"
        "Terrible, my bag is lost again.\n",
        encoding="utf-8",
    )
    classify_file("sentiment", source, tmp_path / "out.jsonl")
    french, english = _lines(tmp_path / "out.jsonl")
    assert french["label"] == "unsupported_language" and french["language"] == "fr" and "score" not in french
    assert english["label"] == "negative" and english["language"] == "en"
    classify_file("journey", source, tmp_path / "stages.jsonl")
    french, english = _lines(tmp_path / "stages.jsonl")
    assert french["label"] == "unsupported_language" and english["label"] in ("use", "support")

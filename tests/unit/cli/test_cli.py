"""The vocmine command: exit statuses, summaries, search, show, stats."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.conftest import DATA
from vocmine.cli.main import app

runner = CliRunner()


def _store(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.sqlite'}"


def test_ingest_exit_status_and_summary(tmp_path):
    store = _store(tmp_path)
    clean = runner.invoke(app, ["ingest", str(DATA / "calls" / "voice.vtt"), "--store", store])
    assert clean.exit_code == 0, clean.output
    assert "Ingestion summary" in clean.output
    partial = runner.invoke(app, ["ingest", str(DATA / "chat"), "--store", store, "--json"])
    assert partial.exit_code == 1  # some records were rejected
    summary = json.loads(partial.output)
    assert summary["records"]["rejected"] == 3
    assert summary["records"]["read"] == summary["records"]["stored"] + summary["records"]["duplicate"] + 3


def test_missing_input_is_exit_2_with_the_path(tmp_path):
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.eml"), "--store", _store(tmp_path)])
    assert result.exit_code == 2
    assert "nope.eml" in result.output


def test_search_show_and_stats(tmp_path):
    store = _store(tmp_path)
    runner.invoke(app, ["ingest", str(DATA / "email"), "--store", store, "--company-domain", "acme-shop.com"])
    found = runner.invoke(app, ["search", "refund", "--store", store, "--json"])
    assert found.exit_code == 0
    page = json.loads(found.output)
    assert page["total"] >= 2
    conversation_id = page["hits"][0]["conversation"]["id"]
    shown = runner.invoke(app, ["show", conversation_id, "--store", store])
    assert shown.exit_code == 0 and conversation_id in shown.output
    stats = json.loads(runner.invoke(app, ["stats", "--store", store, "--json"]).output)
    assert stats["conversations"] == 9 and stats["by_channel"] == {"email": 9}
    filtered = runner.invoke(app, ["search", "refund", "--channel", "chat", "--store", store, "--json"])
    assert json.loads(filtered.output)["total"] == 0
    # A value no filter takes: the option, what it takes and what was given, no pydantic internals.
    angry = runner.invoke(app, ["search", "refund", "--sentiment", "angry", "--store", store])
    assert angry.exit_code == 2 and "--sentiment" in angry.output and "'angry'" in angry.output
    assert "pydantic" not in angry.output and "literal_error" not in angry.output


def test_user_errors_are_exit_2_with_a_hint(tmp_path):
    store = _store(tmp_path)
    missing = runner.invoke(app, ["show", "no-such-id", "--store", store])
    assert missing.exit_code == 2 and "no conversation" in missing.output
    wordless = runner.invoke(app, ["search", "--store", store, "--", "-refund"])
    assert wordless.exit_code == 2 and "only excludes" in wordless.output and "e.g." in wordless.output
    bad_channel = runner.invoke(app, ["search", "x", "--channel", "fax", "--store", store])
    assert bad_channel.exit_code == 2 and "channel" in bad_channel.output
    bad_store = runner.invoke(app, ["stats", "--store", "mysql://db"])
    assert bad_store.exit_code == 2 and "unknown store URL" in bad_store.output


def test_train_journey_without_data_is_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "journey", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "bitext_cs" in result.output


def test_train_sentiment_without_data_is_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "sentiment", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "semeval_twitter_sentiment" in result.output.replace("\n", "")


def test_analyze_then_show_search_and_stats_use_the_results(tmp_path):
    store = _store(tmp_path)
    runner.invoke(app, ["ingest", str(DATA / "chat"), "--store", store])
    first = runner.invoke(app, ["analyze", "--store", store, "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["conversations"] > 0 and sum(summary["sentiment"].values()) == summary["conversations"]
    assert set(summary["model_versions"]) == {"segmenter", "encoder", "sentiment", "journey", "signals", "languages"}
    assert json.loads(runner.invoke(app, ["analyze", "--store", store, "--json"]).output)["conversations"] == 0

    stats = json.loads(runner.invoke(app, ["stats", "--store", store, "--json"]).output)
    assert stats["analysis"]["analysed"] == stats["conversations"]

    negative = json.loads(runner.invoke(app, ["search", "--sentiment", "negative", "--store", store, "--json"]).output)
    some_id = negative["hits"][0]["conversation"]["id"]
    shown = runner.invoke(app, ["show", some_id, "--store", store])
    assert "sentiment: negative" in shown.output and "journey stage:" in shown.output
    payload = json.loads(runner.invoke(app, ["show", some_id, "--store", store, "--json"]).output)
    assert payload["analysis"]["sentiment"]["label"] == "negative"

    bad = runner.invoke(app, ["search", "--sentiment", "furious", "--store", store])
    assert bad.exit_code == 2 and "invalid filter" in bad.output


def test_ingest_can_analyse_what_it_stored(tmp_path):
    store = _store(tmp_path)
    result = runner.invoke(app, ["ingest", str(DATA / "calls" / "voice.vtt"), "--store", store, "--analyze", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["analysis"]["conversations"] == summary["conversations"]["new"] == 1

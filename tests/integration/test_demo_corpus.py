"""The demo corpus: deterministic, multi-format, with what it promises planted, and ingestible."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest
from typer.testing import CliRunner

from vocmine.cli.main import app
from vocmine.demo.generate import RISING_FROM_WEEK, RISING_THEME, START, _plan, write_corpus
from vocmine.services.ingestion import ingest_paths
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore

pytestmark = pytest.mark.integration


def _digest(root):
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tmp_path):
    write_corpus(tmp_path / "a", conversations=150, seed=3)
    write_corpus(tmp_path / "b", conversations=150, seed=3)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_plans_cover_stages_surveys_and_the_rising_theme():
    rng = random.Random(7)
    plans = [_plan(rng, n) for n in range(3200)]
    assert {p.theme.stage for p in plans} == {"awareness", "consideration", "purchase", "use", "support", "advocacy"}
    assert {p.channel for p in plans} == {"email", "chat", "social", "call"}
    assert 0.28 < sum(p.nps is not None for p in plans) / len(plans) < 0.40
    assert sum(p.very_negative for p in plans) > 100
    weeks = Counter((p.started - START).days // 7 for p in plans if p.theme.key == RISING_THEME)
    recent = sum(weeks[w] for w in range(RISING_FROM_WEEK, 12)) / 3
    baseline = sum(weeks[w] for w in range(RISING_FROM_WEEK)) / RISING_FROM_WEEK
    assert recent > 5 * baseline


def test_ingested_corpus_accounts_for_every_record(tmp_path):
    write_corpus(tmp_path / "corpus", conversations=400, seed=11)
    settings = Settings(company_domains=["northwind-telecom.com"], brand_accounts=["NorthwindHelp"])
    store = SQLiteStore(str(tmp_path / "demo.sqlite"))
    report = ingest_paths([str(tmp_path / "corpus")], settings, store, report_dir=tmp_path / "reports")
    assert report.accounted()
    # 400 planned + 18 chats in other languages + the one good row of the short-row CSV
    assert report.conversations["new"] == 419
    assert report.records_rejected == 8  # the deliberately malformed inputs
    stats = store.stats()
    assert set(stats.by_channel) == {"email", "chat", "social", "call"}
    assert {
        "eml",
        "mbox",
        "email-json",
        "vocmine-json",
        "chat-text",
        "intercom",
        "twitter-v1",
        "twitter-v2",
        "posts-csv",
        "aws-transcribe",
        "whisperx",
        "vtt",
        "srt",
    } <= set(stats.by_source)
    assert 0.25 < stats.with_survey / stats.conversations < 0.42
    assert {"fr", "es", "de"} <= set(stats.by_language)  # what analysis will count as unsupported
    assert sum(report.pii_redacted.values()) > 50
    for conversation in store.iter_conversations():
        assert "@example.com" not in conversation.model_dump_json()
        assert conversation.customer_turns(), conversation.id
    again = ingest_paths([str(tmp_path / "corpus")], settings, store, report_dir=tmp_path / "reports")
    assert again.records_stored == 0 and again.conversations["new"] == 0 and again.conversations["updated"] == 0


def test_demo_command_runs_end_to_end(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "demo"), "--conversations", "200"])
    assert result.exit_code == 0, result.output
    assert "Ingestion summary" in result.output and "search refund" in result.output
    assert "Analysis" in result.output and "flag escalation" in result.output and "trajectory improved" in result.output
    store = SQLiteStore(str(tmp_path / "demo" / "vocmine.sqlite"))
    analysed = store.analysis_stats()
    assert analysed.analysed == analysed.conversations == store.stats().conversations
    # The planted tones show through: the corpus leans negative and carries praise and escalations.
    assert analysed.by_sentiment["negative"] > analysed.by_sentiment["positive"] > 0
    assert {"escalation", "churn_risk", "strong_praise"} <= set(analysed.by_signal)
    assert sum(v for k, v in analysed.by_stage.items() if k != "unknown") > analysed.conversations / 2

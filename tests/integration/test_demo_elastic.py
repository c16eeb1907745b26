"""``vocmine demo --store http://…``: the same demo built on an Elasticsearch cluster (``es_server``:
the noida-db emulator the tests start, or the cluster VOCMINE_TEST_ES_URL names), in indices of its
own that it never mixes with what the cluster holds: it stops when they already hold documents, and
with --replace deletes those, and only those, first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from vocmine.cli import main as cli
from vocmine.cli.main import app
from vocmine.testing.elastic import LiveServer
from vocmine.testing.factories import conversation

pytest.importorskip("elasticsearch", reason="the Elasticsearch store needs the elastic extra")

from vocmine.store.elastic.store import ElasticOptions, ElasticStore

pytestmark = pytest.mark.integration


@pytest.fixture
def demo_prefix(monkeypatch: pytest.MonkeyPatch, es_server: LiveServer) -> Iterator[str]:
    """The demo's prefix, made unique for the test (a real cluster may hold a user's own demo);
    its indices, and those of the longer prefix the tests plant beside it, are deleted after."""
    prefix = f"vmtest-demo-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(cli, "DEMO_ES_PREFIX", prefix)
    yield prefix
    for name in (prefix, f"{prefix}-mine"):
        leftover = _store(es_server, name)
        leftover.drop_indices()
        leftover.close()


def _store(server: LiveServer, prefix: str) -> ElasticStore:
    return ElasticStore(server.url, ElasticOptions(prefix=prefix, replicas=0, refresh="wait_for"))


def _plant(server: LiveServer, prefix: str, conversation_id: str) -> None:
    store = _store(server, prefix)
    store.upsert_conversations([conversation(conversation_id, "where is my refund")])
    store.close()


def _ids(server: LiveServer, prefix: str) -> set[str]:
    store = _store(server, prefix)
    try:
        return {c.id for c in store.iter_conversations()}
    finally:
        store.close()


def test_the_demo_stops_when_its_indices_hold_data_and_touches_nothing(es_server, demo_prefix, tmp_path):
    _plant(es_server, demo_prefix, "someone-elses")
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path), "--store", es_server.url])
    assert result.exit_code == 2, result.output
    assert "already hold 1 conversations" in result.output and "--replace" in result.output
    assert _ids(es_server, demo_prefix) == {"someone-elses"}
    assert not (tmp_path / "corpus").exists()  # stopped before writing anything


def test_the_demo_store_is_an_elasticsearch_url(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path), "--store", "sqlite:///x.sqlite"])
    assert result.exit_code == 2
    assert "--workdir" in result.output and not (tmp_path / "corpus").exists()


def test_the_demo_runs_on_elasticsearch_replacing_only_its_own_indices(es_server, demo_prefix, tmp_path):
    _plant(es_server, demo_prefix, "an-earlier-demo")
    _plant(es_server, f"{demo_prefix}-mine", "not-the-demos")  # matches <demo prefix>-*, is not the demo's
    workdir = tmp_path / "demo"
    result = CliRunner().invoke(
        app,
        ["demo", "--workdir", str(workdir), "--conversations", "100", "--store", es_server.url, "--replace"],
    )
    assert result.exit_code == 0, result.output
    assert f"deleted the demo's earlier indices: {demo_prefix}-conversations-v" in result.output
    assert "search refund" in result.output and "key drivers of NPS" in result.output
    assert f"export VOCMINE_ES_PREFIX={demo_prefix}" in result.output
    assert f"vocmine search --flag escalation --store {es_server.url}\n" in result.output
    assert f"VOCMINE_ES_PREFIX={demo_prefix} VOCMINE_THEMES_DIR={workdir / 'themes'} vocmine serve" in result.output
    assert f"--store {es_server.url} --port 8000" in result.output
    assert not (workdir / "vocmine.sqlite").exists()
    assert (workdir / "themes").is_dir()

    assert _ids(es_server, f"{demo_prefix}-mine") == {"not-the-demos"}
    demo = _store(es_server, demo_prefix)
    try:
        ids = {c.id for c in demo.iter_conversations()}
        assert "an-earlier-demo" not in ids and len(ids) > 100
        analysed = demo.analysis_stats()
        assert analysed.analysed == analysed.conversations == len(ids)
        assert demo.list_themes() and demo.list_api_keys()
    finally:
        demo.close()

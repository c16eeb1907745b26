"""A library caller that names no report folder gets the settings' one, not the working directory."""

from __future__ import annotations

import json

from vocmine.services.ingestion import ingest_paths
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore


def test_reports_go_where_the_settings_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "chats.jsonl"
    source.write_text(json.dumps({"id": "c1", "channel": "chat", "turns": [{"role": "customer", "text": "hi"}]}) + "\n")
    settings = Settings(store=f"sqlite:///{tmp_path / 'store.sqlite'}", report_dir=str(tmp_path / "reports"))
    ingest_paths([str(source)], settings, SQLiteStore(str(tmp_path / "store.sqlite")))
    assert list((tmp_path / "reports").glob("ingest-*.summary.json"))
    assert not (tmp_path / "vocmine-reports").exists()

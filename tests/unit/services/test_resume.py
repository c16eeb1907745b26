"""An interrupted run, run again to completion, leaves no duplicates and loses nothing."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from vocmine.services.ingestion import ingest_paths
from vocmine.store.sqlite.store import SQLiteStore


class CrashingStore(SQLiteStore):
    """Fails like a killed process would, after a number of successful batch writes."""

    def __init__(self, path: str, fail_after: int) -> None:
        super().__init__(path)
        self.writes_left = fail_after

    def upsert_conversations(self, conversations):
        if self.writes_left == 0:
            raise KeyboardInterrupt
        self.writes_left -= 1
        return super().upsert_conversations(conversations)


def _snapshot(store):
    return {c.id: c.model_dump_json() for c in store.iter_conversations()}


@pytest.mark.parametrize("fail_after", [0, 1, 3])
def test_rerun_after_interruption_matches_a_clean_run(settings, tmp_path, fail_after):
    settings.batch_size = 2
    inputs = [str(DATA / "chat"), str(DATA / "email"), str(DATA / "social"), str(DATA / "calls")]

    clean = SQLiteStore(str(tmp_path / "clean.sqlite"))
    ingest_paths(inputs, settings, clean, report_dir=tmp_path / "r1")

    crashing = CrashingStore(str(tmp_path / "resumed.sqlite"), fail_after)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(inputs, settings, crashing, report_dir=tmp_path / "r2")
    crashing.close()
    resumed = SQLiteStore(str(tmp_path / "resumed.sqlite"))
    report = ingest_paths(inputs, settings, resumed, report_dir=tmp_path / "r3")

    assert report.accounted()
    assert _snapshot(resumed) == _snapshot(clean)
    assert resumed.stats().conversations == clean.stats().conversations

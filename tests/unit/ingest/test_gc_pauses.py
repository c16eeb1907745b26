"""Ingestion raises the cycle collector's first threshold (``gc_pauses.py``) for its own duration
only, and in its workers for good."""

from __future__ import annotations

import gc

from vocmine.ingest.gc_pauses import FIRST_GENERATION_THRESHOLD, collecting_less_often
from vocmine.services import ingest_workers
from vocmine.services.ingest_inputs import HowToRead


def test_the_run_sets_the_thresholds_back_when_it_ends():
    before = gc.get_threshold()
    try:
        with collecting_less_often():
            assert gc.get_threshold() == (FIRST_GENERATION_THRESHOLD, *before[1:])
            raise RuntimeError("a run that fails")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_a_worker_collects_less_often(settings, monkeypatch):
    monkeypatch.setattr(ingest_workers, "_WORKER", None)  # this process's worker state, put back after
    before = gc.get_threshold()
    try:
        ingest_workers.start_worker(HowToRead(settings, None, None, None))
        assert gc.get_threshold()[0] == FIRST_GENERATION_THRESHOLD
    finally:
        gc.set_threshold(*before)

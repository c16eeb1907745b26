"""Shared fixtures: a fresh embedded store per test and a helper that ingests paths into it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vocmine.services.ingestion import IngestReport, ingest_paths
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore

DATA = Path(__file__).parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=f"sqlite:///{tmp_path / 'store.sqlite'}",
        company_domains=["acme-shop.com"],
        brand_accounts=["AcmeHelp"],
    )


@pytest.fixture
def store(tmp_path: Path):
    store = SQLiteStore(str(tmp_path / "store.sqlite"))
    yield store
    store.close()


@pytest.fixture
def ingest(settings: Settings, store: SQLiteStore, tmp_path: Path) -> Callable[..., IngestReport]:
    def run(*paths: Path | str, **options: object) -> IngestReport:
        return ingest_paths([str(p) for p in paths], settings, store, report_dir=tmp_path / "reports", **options)

    return run

"""An API over a SQLite store seeded with analysed conversations and a theme catalog (written
directly, no model run), and one key per scope."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vocmine.services.keys import create_key
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import catalog, seed_analysed
from vocmine_api import create_app

ROWS = [
    (
        "a",
        0,
        [("my bill is wrong again", "t1"), ("the app keeps crashing", "t2")],
        "negative",
        ("escalation",),
        "chat",
        0,
    ),
    ("b", 1, [("thanks, the bill is sorted", "t1")], "positive", (), "email", 10),
    ("c", 8, [("the app crashed on login", "t2")], "negative", ("churn_risk",), "chat", 3),
    ("d", 9, [("hello there", None)], "neutral", (), "social", None),
]


@pytest.fixture
def api_store(tmp_path: Path):
    store = SQLiteStore(str(tmp_path / "api.sqlite"))
    seed_analysed(store, ROWS)
    store.replace_themes(catalog("t1", "t2", "t3"), "themes-test")
    yield store
    store.close()


@pytest.fixture
def tokens(api_store: SQLiteStore) -> dict[str, str]:
    return {scope: create_key(api_store, f"{scope} key", [scope])[1] for scope in ("read", "ingest", "review", "admin")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=f"sqlite:///{tmp_path / 'api.sqlite'}",
        api_max_body_bytes=10_000,
        api_max_page_size=50,
        api_load_models=False,  # route tests need no models; tests/integration/test_api_ingest.py loads them
        report_dir=str(tmp_path / "reports"),
    )


@pytest.fixture
def client(api_store: SQLiteStore, settings: Settings):
    with TestClient(create_app(settings, store=api_store)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client: TestClient, path: Path, headers: dict[str, str]) -> Any:
    """POST one file to /v1/ingest/files."""
    with path.open("rb") as handle:
        return client.post(
            "/v1/ingest/files", files=[("files", (path.name, handle, "application/json"))], headers=headers
        )


def finished_job(client: TestClient, job_id: str, headers: dict[str, str], seconds: float = 60) -> dict[str, Any]:
    """Poll GET /v1/jobs/{id} until the job is done or failed (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job  # type: ignore[no-any-return]
        time.sleep(0.25)

"""An API over a store seeded with analysed conversations and a theme catalog (written directly, no
model run), and one key per scope. Every test that uses the seeded store runs twice: on the embedded
SQLite store and on Elasticsearch on the live server of the session (``es_server`` in tests/conftest.py:
the noida-db emulator, or the cluster VOCMINE_TEST_ES_URL names), where it skips, saying how to run
it, when neither is at hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vocmine.services.keys import create_key
from vocmine.settings import Settings
from vocmine.store.protocol import Store
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


BACKENDS = ["sqlite", "elasticsearch"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api_store" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", BACKENDS, indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """The backend of this run of the test; SQLite for a test that does not use the seeded store."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def backend_store(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store of the test's backend (Elasticsearch: indices of its own on the live server)."""
    if store_backend == "elasticsearch":
        yield request.getfixturevalue("elastic_store")
        return
    store = SQLiteStore(str(tmp_path / "api.sqlite"))
    yield store
    store.close()


@pytest.fixture
def api_store(backend_store: Store) -> Store:
    seed_analysed(backend_store, ROWS)
    backend_store.replace_themes(catalog("t1", "t2", "t3"), "themes-test")
    return backend_store


@pytest.fixture
def tokens(api_store: Store) -> dict[str, str]:
    return {scope: create_key(api_store, f"{scope} key", [scope])[1] for scope in ("read", "ingest", "review", "admin")}


@pytest.fixture
def settings(
    tmp_path: Path, store_backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings naming the test's store, so an app opened without a store (as ``vocmine serve``
    opens one) reads and writes the same data."""
    store_url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    if store_backend == "elasticsearch":
        elastic = request.getfixturevalue("elastic_store")
        store_url = elastic.url
        for option in ("prefix", "dimensions", "replicas", "refresh"):
            monkeypatch.setenv(f"VOCMINE_ES_{option.upper()}", str(getattr(elastic.options, option)))
    return Settings(
        store=store_url,
        api_max_body_bytes=10_000,
        api_max_page_size=50,
        api_load_models=False,  # route tests need no models; tests/integration/test_api_ingest.py loads them
        report_dir=str(tmp_path / "reports"),
    )


@pytest.fixture
def client(api_store: Store, settings: Settings):
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


def sign_in_console(client: TestClient, token: str, tz: str = "UTC") -> str:
    """Sign a TestClient in to the web console with an API key, as the sign-in form does; the client
    then carries the session cookie. Returns the CSRF token console writes must send (form field
    ``csrf`` or header ``X-CSRF-Token``)."""
    answer = client.post("/sign-in", data={"key": token, "next": "/preferences", "tz": tz})
    assert answer.status_code == 200, answer.text
    import re

    found = re.search(r'name="csrf" value="([0-9a-f]+)"', answer.text)
    assert found, "the preferences page carries the CSRF token"
    return found.group(1)

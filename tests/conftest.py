"""Shared fixtures: a fresh embedded store per test and a helper that ingests paths into it; a live
Elasticsearch-API server for the session (``es_server``) and a store on it with indices of its own
per test (``elastic_store``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vocmine.services.ingestion import IngestReport, ingest_paths
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.elastic import (
    ES_URL_VARIABLE,
    HOW_TO_RUN,
    LiveServer,
    emulator,
    emulator_installed,
    given_url,
    is_emulator,
    server_info,
)

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


# ------------------------------------------------------------ a live Elasticsearch-API server


LIVE_TESTS = pytest.StashKey[set[str]]()
LIVE_SERVER = pytest.StashKey[LiveServer]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.emulator_differs("what differs")`` on a test that runs on the live server: an
    expected failure (strict: a test that starts passing must lose its marker) when that server is the
    noida-db emulator, an ordinary test against a real cluster (VOCMINE_TEST_ES_URL)."""
    config.stash[LIVE_TESTS] = {item.nodeid for item in items if runs_on_the_live_server(item)}
    if given_url():
        return
    for item in items:
        marker = item.get_closest_marker("emulator_differs")
        if marker is None or not runs_on_the_live_server(item):
            continue
        reason = marker.args[0] if marker.args else marker.kwargs["reason"]
        item.add_marker(pytest.mark.xfail(reason=f"noida-db differs from Elasticsearch: {reason}", strict=True))


def runs_on_the_live_server(item: pytest.Item) -> bool:
    """A test runs on the live server when it uses ``es_server`` (through ``elastic_store``, say), or
    is the Elasticsearch run of a test parametrised over ``store_backend`` (tests/api_routes)."""
    callspec = getattr(item, "callspec", None)
    on_elastic = callspec is not None and callspec.params.get("store_backend") == "elasticsearch"
    return on_elastic or "es_server" in getattr(item, "fixturenames", ())


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line saying which server the Elasticsearch tests ran on and how they ended, so a CI log
    shows that they ran live (-ra lists the reasons of the expected failures after it)."""
    live = config.stash.get(LIVE_TESTS, set())
    if not live:
        return
    outcomes: dict[str, set[str]] = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "nodeid", None) in live:
                outcomes.setdefault(outcome, set()).add(report.nodeid)
    if not outcomes:
        return
    counts = ", ".join(f"{len(ids)} {outcome}" for outcome, ids in outcomes.items())
    server = config.stash.get(LIVE_SERVER, None)
    if server is None:
        terminalreporter.write_line(f"Elasticsearch tests: {counts}, on no server: {HOW_TO_RUN}")
        return
    kind = "the noida-db emulator" if server.emulator else "Elasticsearch"
    note = (
        " (xfailed: where the emulator differs from Elasticsearch, each named below)" if "xfailed" in outcomes else ""
    )
    terminalreporter.write_line(
        f"Elasticsearch tests ran on {kind} at {server.url} (reports Elasticsearch {server.version}): {counts}{note}"
    )


@pytest.fixture(scope="session")
def es_server(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LiveServer]:
    """The cluster VOCMINE_TEST_ES_URL names, else noida-db started on a free loopback port for the
    session (a temporary data directory; stopped at the end); skips, saying how to run them, where
    neither is at hand."""
    url = given_url()
    if url:
        info = server_info(url, timeout=10.0)
        if is_emulator(info):
            pytest.fail(
                f"{ES_URL_VARIABLE} points at the noida-db emulator: unset it and the tests start one themselves, "
                "with its differences from Elasticsearch marked; the variable is for a real cluster"
            )
        cluster = LiveServer(url=url, emulator=False, version=str(info.get("version", {}).get("number", "?")))
        pytestconfig.stash[LIVE_SERVER] = cluster
        yield cluster
        return
    if not emulator_installed():
        pytest.skip(HOW_TO_RUN)
    with emulator(tmp_path_factory.mktemp("noida-db") / "data") as server:
        pytestconfig.stash[LIVE_SERVER] = server
        yield server


@pytest.fixture
def elastic_store(es_server: LiveServer) -> Iterator[Any]:
    """An Elasticsearch store on the live server with an index prefix of its own (so no test sees
    another's data), waiting for refreshes so searches see its writes; its indices are deleted after."""
    pytest.importorskip("elasticsearch", reason="the Elasticsearch store needs the elastic extra")
    from vocmine.store.elastic.store import ElasticOptions, ElasticStore

    options = ElasticOptions(prefix=f"vmtest-{uuid.uuid4().hex[:10]}", dimensions=8, replicas=0, refresh="wait_for")
    backend = ElasticStore(es_server.url, options)
    try:
        yield backend
    finally:
        backend.drop_indices()
        backend.close()

"""Scale-out analysis (``vocmine analyze --engine dask``) on a local Dask cluster of two worker
processes, over a small SQLite store with the shipped models: every pending conversation analysed
once, with the labels a local run gives, and a worker that dies half way through a part has that part
redone without analysing anything twice (the ``VOCMINE_TEST_CRASH_ONCE`` hook of
vocmine.services.scaleout)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vocmine.errors import ConfigError
from vocmine.schema import Conversation, Turn
from vocmine.services import scaleout
from vocmine.services.analysis import analyze_store, build_analyzer
from vocmine.services.scaleout import CRASH_ONCE_VARIABLE, PartitionFailed, analyze_on_dask
from vocmine.settings import Settings
from vocmine.store.query import versions_key
from vocmine.store.sqlite.store import SQLiteStore

distributed = pytest.importorskip("distributed", reason="scale-out analysis needs the scale extra")

CRASHING_PART = 1
ES_PREFIX = f"vmtest-scaleout-{uuid.uuid4().hex[:8]}"  # the workers open the store from the environment
MESSAGES = [
    "My broadband has been down for four days. This is the third time I've called!",
    "Brilliant, thank you so much, the engineer fixed it.",
    "I want to cancel my contract, your prices keep going up.",
    "Where is my parcel? It was due on Monday.",
    "Can I change the delivery address on my order?",
    "The app crashes every time I try to pay. Useless.",
    "Thanks for the quick refund, really appreciated.",
    "I've been on hold for an hour, put me through to a manager.",
]


def conversations(n: int) -> list[Conversation]:
    return [
        Conversation(
            id=f"conv-{i:02}",
            channel="chat",
            source="test",
            turns=[
                Turn(role="customer", text=MESSAGES[i % len(MESSAGES)]),
                Turn(role="agent", text="Sorry to hear that, let me check."),
                Turn(role="customer", text=MESSAGES[(i * 3 + 1) % len(MESSAGES)]),
            ],
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def armed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file that arms the crash hook: a part-1 attempt that finds it deletes it and dies."""
    return tmp_path_factory.mktemp("hook") / "armed"


@pytest.fixture(scope="module")
def cluster(armed: Path) -> Iterator[Any]:
    """Two worker processes, one thread each, with the crash hook in their environment (disarmed
    until a test creates the file)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(CRASH_ONCE_VARIABLE, f"{CRASHING_PART}:{armed}")
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("VOCMINE_ES_PREFIX", ES_PREFIX)
    mp.setenv("VOCMINE_ES_REPLICAS", "0")
    mp.setenv("VOCMINE_ES_REFRESH", "wait_for")  # the driver's searches see what the workers wrote
    # Kept until the cluster is closed: the nannies run in this process, and a worker that dies is
    # started again with this process's environment.
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local:
            yield local
    finally:
        mp.undo()


def make_store(folder: Path, n: int) -> tuple[Settings, SQLiteStore]:
    folder.mkdir()
    settings = Settings(store=f"sqlite:///{folder / 'store.sqlite'}", analysis_batch=2)
    store = SQLiteStore(str(folder / "store.sqlite"))
    store.upsert_conversations(conversations(n))
    # Every write of an analysis leaves a row here: how the test sees that none was written twice.
    with sqlite3.connect(folder / "store.sqlite") as db:
        db.execute("CREATE TABLE analysis_writes (conversation_id TEXT)")
        db.execute(
            "CREATE TRIGGER count_analysis_writes AFTER INSERT ON analyses "
            "BEGIN INSERT INTO analysis_writes VALUES (new.conversation_id); END"
        )
    return settings, store


def writes(settings: Settings) -> dict[str, int]:
    with sqlite3.connect(settings.store.removeprefix("sqlite:///")) as db:
        return dict(db.execute("SELECT conversation_id, COUNT(*) FROM analysis_writes GROUP BY 1").fetchall())


def labels(store: SQLiteStore, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    found = store.get_analyses(ids)
    return {
        cid: (
            a.sentiment.label if a.sentiment else None,
            a.stage,
            sorted(f.signal for f in a.flags),
            [s.sentiment for s in a.segments],
        )
        for cid, a in found.items()
    }


def test_every_pending_conversation_is_analysed_once_with_the_labels_of_a_local_run(
    cluster: Any, tmp_path: Path
) -> None:
    settings, store = make_store(tmp_path / "dask", 16)
    done = build_analyzer(settings).analyse(conversations(16)[:4])
    store.write_analyses([a for a, _ in done], [v for _, v in done])
    before = writes(settings)  # four analysed already: not pending, not written again

    report = analyze_on_dask(settings, store, scheduler=cluster.scheduler_address, partitions=4)

    ids = [c.id for c in conversations(16)]
    after = writes(settings)
    assert report.conversations == 12
    assert {cid: n - before.get(cid, 0) for cid, n in after.items() if n - before.get(cid, 0)} == {
        cid: 1 for cid in ids[4:]
    }
    assert store.count_unanalysed(versions_key(report.model_versions)) == 0

    local_settings, local_store = make_store(tmp_path / "local", 16)
    analyze_store(local_store, build_analyzer(local_settings, store=local_store), batch_size=2)
    assert labels(store, ids) == labels(local_store, ids)


def test_a_worker_that_dies_mid_part_has_its_part_redone_and_nothing_analysed_twice(
    cluster: Any, armed: Path, tmp_path: Path
) -> None:
    settings, store = make_store(tmp_path / "crash", 16)
    armed.touch()

    report = analyze_on_dask(settings, store, scheduler=cluster.scheduler_address, partitions=2)

    assert not armed.exists()  # the hook fired: a worker died after writing its first batch
    assert set(writes(settings).values()) == {1} and len(writes(settings)) == 16
    # The dead attempt's batch (two conversations) is in the store but in no report.
    assert report.conversations == 16 - settings.analysis_batch
    assert store.count_unanalysed(versions_key(report.model_versions)) == 0


def test_on_elasticsearch_every_pending_conversation_is_analysed(cluster: Any, es_server: Any, tmp_path: Path) -> None:
    pytest.importorskip("elasticsearch", reason="the Elasticsearch store needs the elastic extra")
    from vocmine.store.elastic.store import ElasticOptions, ElasticStore

    store = ElasticStore(es_server.url, ElasticOptions(prefix=ES_PREFIX, replicas=0, refresh="wait_for"))
    try:
        store.upsert_conversations(conversations(10))
        settings = Settings(store=es_server.url, analysis_batch=2, embedding_cache=str(tmp_path / "vectors.sqlite"))
        report = analyze_on_dask(settings, store, scheduler=cluster.scheduler_address, partitions=3)
        assert report.conversations == 10
        assert store.count_unanalysed(versions_key(report.model_versions)) == 0
        assert len(store.get_analyses([c.id for c in conversations(10)])) == 10
    finally:
        store.drop_indices()
        store.close()


def test_a_part_that_fails_every_attempt_fails_the_run_naming_it(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The driver plans under model versions the workers do not have: every task refuses, each try.
    settings, store = make_store(tmp_path / "failing", 4)
    monkeypatch.setattr(scaleout, "versions_key", lambda _versions: "models-the-workers-lack")
    with pytest.raises(PartitionFailed) as caught:
        analyze_on_dask(settings, store, scheduler=cluster.scheduler_address, partitions=2)
    message = str(caught.value)
    assert "2 of 2 parts failed" in message and "part 1 of 2 (0, " in message and "part 2 of 2 (" in message
    assert "models differ from the driver's" in message
    assert store.analysis_stats().analysed == 0


def test_the_cli_runs_the_dask_engine_on_a_running_scheduler(cluster: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vocmine.cli.main import app

    settings, _ = make_store(tmp_path / "cli", 6)
    runner = CliRunner()
    args = ["analyze", "--store", settings.store, "--json", "--engine", "dask"]
    done = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address, "--partitions", "3"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["conversations"] == 6
    refused = runner.invoke(app, ["analyze", "--store", settings.store, "--workers", "2"])
    assert refused.exit_code != 0 and "--engine dask" in refused.output


def test_the_dask_engine_without_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in {"dask", "distributed"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    settings, store = make_store(tmp_path / "nodask", 1)
    with pytest.raises(ConfigError) as caught:
        analyze_on_dask(settings, store, workers=1)
    assert "pip install 'vocmine[scale]'" in str(caught.value.hint)

"""Scale-out analysis on Dask: ``vocmine analyze --engine dask``.

The conversations that need analysis are split by the store into parts (``Store.plan_partitions``:
rowid ranges on SQLite, slices of one point in time on Elasticsearch); each part is one task on a
``dask.distributed`` cluster. A task loads the analyzer and opens the store once per worker process
(cached by the settings), reads its part's *pending* conversations, runs the same pipeline as a
local run (``analyze_store``) and writes each batch back through ``write_analyses``, which replaces a
conversation's analysis whole. So a part run again (its worker died, or it raised) first re-reads
what is still pending: what the lost attempt wrote is not analysed twice and nothing is skipped.

Why Dask rather than Ray: both are wheels on PyPI, but Dask (``dask`` + ``distributed``, the
``scale`` extra) is pure Python, needs no daemon or object store, and the same code runs on a
``LocalCluster``, on ``dask scheduler`` / ``dask worker`` started by hand on other machines, or on
dask-kubernetes / dask-jobqueue. Its scheduler reschedules the tasks of a worker that dies (up to
``distributed.scheduler.allowed-failures`` deaths, then ``KilledWorker``), and a task that raises is
retried ``TASK_RETRIES`` times. The workers need the same vocmine install and models as the driver
(checked: a worker whose model versions differ fails its task) and must reach the store.

Test hook: with ``VOCMINE_TEST_CRASH_ONCE=N:/path/armed`` in the workers' environment, the worker
running part ``N`` (counted from 0) exits (``os._exit``) right after writing its first batch if the
file ``/path/armed`` exists, deleting it, so only one attempt dies: how the tests show a dead
worker's part being redone. It is read in the worker process only.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from vocmine.analysis.pipeline import Analyzer
from vocmine.errors import ConfigError, VocmineError
from vocmine.services.analysis import AnalyzeReport, analyze_store, build_analyzer
from vocmine.settings import Settings
from vocmine.store.protocol import Partition, Store
from vocmine.store.query import ConversationFilter, versions_key

INSTALL_HINT = "pip install 'vocmine[scale]'"
PARTITIONS_PER_WORKER = 4  # smaller parts: a dead worker loses less, and a slow one holds up less
TASK_RETRIES = 2  # a task that raises runs this many more times (a dead worker is the scheduler's)
CRASH_ONCE_VARIABLE = "VOCMINE_TEST_CRASH_ONCE"
CONNECT_SECONDS = 60

# Per worker process: the analyzer and the store for each settings seen (models load once).
_PIPELINES: dict[str, tuple[Analyzer, Store]] = {}


class PartitionFailed(VocmineError):
    """A part of a scale-out run failed every attempt."""


def analyse_partition(
    settings: Settings, partition: Partition, key: str, filter: ConversationFilter | None
) -> dict[str, Any]:
    """One task, run in a worker process: analyse what is pending of ``partition`` and write it."""
    analyzer, store = _pipeline(settings)
    found = versions_key(analyzer.model_versions)
    if found != key:
        raise ConfigError(
            f"this worker's models differ from the driver's ({analyzer.model_versions})",
            hint="install the same vocmine version and models on every worker",
        )
    report = analyze_store(
        store,
        analyzer,
        batch_size=settings.analysis_batch,
        source=store.iter_partition(partition, key, filter),
        on_batch=_crash_hook(partition),
    )
    return {"partition": partition.number, **report.as_dict()}


def warm_up(settings: Settings) -> str:
    """Load this worker process's models for ``settings`` (what the first task would do), so that a
    bench can time the analysis apart from loading: ``client.run(warm_up, settings)``."""
    from vocmine.schema import Conversation, Turn

    analyzer, _ = _pipeline(settings)
    analyzer.analyse([Conversation(id="warm-up", channel="chat", source="-", turns=[Turn(role="customer", text="hi")])])
    return versions_key(analyzer.model_versions)


def _pipeline(settings: Settings) -> tuple[Analyzer, Store]:
    cache_key = settings.model_dump_json()
    if cache_key not in _PIPELINES:
        from vocmine.store.factory import open_store

        store = open_store(settings.store)
        _PIPELINES[cache_key] = (build_analyzer(settings, store=store), store)
    return _PIPELINES[cache_key]


def _crash_hook(partition: Partition) -> Callable[[int], None] | None:
    wanted = os.environ.get(CRASH_ONCE_VARIABLE)
    if not wanted:
        return None
    number, _, armed = wanted.partition(":")
    if int(number) != partition.number:
        return None

    def die(_written: int) -> None:
        try:
            Path(armed).unlink()  # disarmed by the one attempt that dies
        except FileNotFoundError:
            return
        os._exit(70)  # a worker that dies, not a task that raises: the scheduler must reschedule it

    return die


def analyze_on_dask(
    settings: Settings,
    store: Store,
    filter: ConversationFilter | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    on_partition: Callable[[Mapping[str, Any]], None] | None = None,
) -> AnalyzeReport:
    """Analyse what ``store`` holds pending on a Dask cluster: the one at ``scheduler`` (an address
    such as tcp://host:8786), else a local cluster of ``workers`` processes (default: one per CPU).
    ``partitions`` defaults to PARTITIONS_PER_WORKER per worker; ``on_partition`` gets each finished
    part's report."""
    started = time.perf_counter()
    distributed = _import_distributed()
    analyzer = build_analyzer(settings, store=store)  # for the versions key: the models load lazily, not here
    key = versions_key(analyzer.model_versions)
    with ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(_connect(distributed, scheduler))
        else:
            cluster = stack.enter_context(
                distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True)
            )
            client = stack.enter_context(distributed.Client(cluster))
        count = partitions or PARTITIONS_PER_WORKER * max(len(client.scheduler_info()["workers"]), 1)
        plan = store.plan_partitions(key, count, filter)
        stack.callback(store.release_partitions, plan)
        futures = {
            client.submit(
                analyse_partition,
                settings,
                part,
                key,
                filter,
                key=f"vocmine-analyse-{key[:12]}-{part.number}-of-{part.of}-{time.time_ns()}",
                retries=TASK_RETRIES,
                pure=False,
            ): part
            for part in plan
        }
        reports, failed = [], []
        for future in distributed.as_completed(futures):
            part = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # every failure is named below, none is lost
                failed.append(f"{describe(part)}: {exc!r}")
                continue
            reports.append(result)
            if on_partition:
                on_partition(result)
    if failed:
        raise PartitionFailed(
            f"{len(failed)} of {len(plan)} parts failed every attempt: " + "; ".join(failed),
            hint="what the other parts wrote is kept: run again to analyse only what is still pending",
        )
    combined = combine_reports(reports, analyzer.model_versions)
    combined.seconds = time.perf_counter() - started
    return combined


def _connect(distributed: Any, scheduler: str) -> Any:
    """A client of the scheduler at ``scheduler`` with at least one worker, or a ConfigError saying
    which is missing."""
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"cannot reach a Dask scheduler at {scheduler}: {exc}", hint="start one: dask scheduler --port 8786"
        ) from exc
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except TimeoutError as exc:
        client.close()
        raise ConfigError(
            f"no worker joined the Dask scheduler at {scheduler} within {CONNECT_SECONDS} s",
            hint=f"start workers: dask worker {scheduler} --nthreads 1",
        ) from exc
    return client


def describe(part: Partition) -> str:
    """The part as an error names it (a point-in-time id is long: it is cut)."""
    bounds = ", ".join(str(b) for b in part.bounds)
    return (
        f"part {part.number + 1} of {part.of} ({bounds if len(bounds) <= 60 else bounds[:25] + '...' + bounds[-25:]})"
    )


def combine_reports(parts: list[Mapping[str, Any]], model_versions: dict[str, str]) -> AnalyzeReport:
    """One report from the parts' (``AnalyzeReport.as_dict``); step times add up across workers."""
    total = AnalyzeReport(model_versions=model_versions)
    steps: Counter[str] = Counter()
    for part in parts:
        total.conversations += int(part["conversations"])
        total.segments += int(part["segments"])
        total.encoded += int(part["texts_encoded"])
        total.cached += int(part["texts_from_cache"])
        total.sentiments.update(part["sentiment"])
        total.stages.update(part["stages"])
        total.flags.update(part["flags"])
        steps.update(part["seconds_by_step"])
    total.seconds_by_step = dict(steps)
    return total


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            "--engine dask needs dask and distributed, which are not installed", hint=INSTALL_HINT
        ) from exc
    return distributed

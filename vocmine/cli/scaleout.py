"""``vocmine analyze --engine dask``: the options checked and the run shown with a progress bar.
Dask itself is imported by ``vocmine.services.scaleout`` only when this engine runs, so the CLI starts
without the ``scale`` extra."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vocmine.cli.common import err
from vocmine.errors import ConfigError
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

if TYPE_CHECKING:
    from vocmine.services.analysis import AnalyzeReport

ENGINES = ("local", "dask")


def check_engine_options(
    engine: str, *, redo: bool, scheduler: str | None, workers: int | None, partitions: int | None
) -> None:
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")
    if engine == "local":
        if scheduler or workers or partitions:
            raise ConfigError("--scheduler, --workers and --partitions are for --engine dask")
        return
    if redo:
        raise ConfigError("--all runs on the local engine only", hint="drop --engine dask, or drop --all")
    if scheduler and workers:
        raise ConfigError("--workers starts a local cluster; a cluster at --scheduler has its own workers")
    if (workers is not None and workers < 1) or (partitions is not None and partitions < 1):
        raise ConfigError("--workers and --partitions must be at least 1")


def run_on_dask(
    settings: Settings,
    target: Store,
    filter: ConversationFilter,
    *,
    scheduler: str | None,
    workers: int | None,
    partitions: int | None,
    quiet: bool = False,
) -> AnalyzeReport:
    from vocmine.services.analysis import build_analyzer
    from vocmine.services.scaleout import analyze_on_dask
    from vocmine.store.query import versions_key

    total = target.count_unanalysed(versions_key(build_analyzer(settings, store=target).model_versions), filter)
    columns = (TextColumn("analysing on dask"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("analysing", total=total)

        def advance(part: Mapping[str, Any]) -> None:
            progress.advance(task, int(part["conversations"]))

        return analyze_on_dask(
            settings,
            target,
            filter,
            scheduler=scheduler,
            workers=workers,
            partitions=partitions,
            on_partition=advance,
        )

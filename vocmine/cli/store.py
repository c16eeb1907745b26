"""``vocmine reindex`` (copy a store into another) and ``vocmine es`` (Elasticsearch index
management)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vocmine.cli.common import CommandGroup, StoreOption, _settings, console, err
from vocmine.errors import ConfigError
from vocmine.store.factory import open_elastic_store, open_store, sqlite_path

if TYPE_CHECKING:
    from vocmine.store.elastic.store import ElasticStore

es_app = CommandGroup(no_args_is_help=True, help="Elasticsearch indices: set up and migrate.")


def reindex_command(
    source: Annotated[str, typer.Option("--from", help="the store to copy, e.g. sqlite:///var/vocmine.sqlite")],
    target: Annotated[str, typer.Option("--to", help="the store to copy into, e.g. https://elastic:PW@host:9200")],
) -> None:
    """Copy every conversation, analysis (with embeddings), theme, API key, alert rule and review
    into another store. Safe to run again: writes are upserts by id."""
    from vocmine.services.reindex import reindex

    if source == target:
        raise ConfigError("--from and --to name the same store", hint="copy into another store")
    source_file = sqlite_path(source)
    if source_file is not None and source_file != ":memory:" and not Path(source_file).expanduser().exists():
        # Opening it would create an empty store and "copy" nothing.
        raise ConfigError(f"no store at {source_file}", hint="give the path of an existing vocmine store")
    origin, destination = open_store(source), open_store(target)
    try:
        total = origin.stats().conversations
        with Progress(
            TextColumn("copying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
        ) as bar:
            task = bar.add_task("copy", total=total)
            report = reindex(origin, destination, progress=lambda n: bar.advance(task, n))
        copied = destination.stats().conversations
    finally:
        origin.close()
        destination.close()
    console.print(
        f"copied {report.conversations} conversations ({report.analyses} analysed), {report.themes} themes, "
        f"{report.api_keys} API keys, {report.alert_rules} alert rules, {report.deliveries} deliveries, "
        f"{report.reviews} reviews; the target now holds {copied} conversations"
    )
    if report.segments_without_vector:
        err.print(f"{report.segments_without_vector} segments had no embedding in the source and were copied without")
    if copied < total:
        err.print(f"[red]the target holds fewer conversations ({copied}) than the source ({total})[/red]")
        raise typer.Exit(1)


def _elastic(store: str | None) -> ElasticStore:
    return open_elastic_store(_settings(store=store).store)


@es_app.command("setup")
def setup(store: StoreOption = None) -> None:
    """Put the index templates and create the indices behind their aliases (done on first use anyway)."""
    elastic = _elastic(store)
    elastic.ensure_indices()
    console.print(f"indices ready under the prefix {elastic.prefix}")


@es_app.command("migrate")
def migrate(store: StoreOption = None) -> None:
    """Move each alias to an index of the current mapping version: create it, re-index into it, then
    switch the alias atomically (searches never see a missing index)."""
    elastic = _elastic(store)
    moved = elastic.migrate(log=err.print)
    for kind, what in moved.items():
        console.print(f"{kind}: {what}")

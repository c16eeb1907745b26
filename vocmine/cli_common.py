"""What every ``vocmine`` sub-command shares: consoles, the --store option, settings and errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from vocmine.errors import StoreError, VocmineError
from vocmine.service import EXIT_STORE, EXIT_USAGE
from vocmine.settings import Settings
from vocmine.store.base import Store, open_store

console = Console()
err = Console(stderr=True)

StoreOption = Annotated[
    str | None, typer.Option("--store", help="sqlite:///path or https://host:9200 (default: VOCMINE_STORE)")
]


def _settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v not in (None, [], ())}
    try:
        return Settings(**values)
    except Exception as exc:  # pydantic's ValidationError names the setting and the problem
        raise VocmineError(f"invalid settings: {exc}") from exc


def _fail(exc: VocmineError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(EXIT_STORE if isinstance(exc, StoreError) else EXIT_USAGE)


def _open(settings: Settings) -> Store:
    return open_store(settings.store)


@contextmanager
def opened(settings: Settings) -> Iterator[Store]:
    """The configured store, closed when the command is done with it."""
    store = open_store(settings.store)
    try:
        yield store
    finally:
        store.close()

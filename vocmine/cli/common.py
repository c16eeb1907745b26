"""What every ``vocmine`` sub-command shares: consoles, the --store option, settings and errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from vocmine.errors import StoreError, VocmineError
from vocmine.schema import ThemeLevel
from vocmine.services.ingestion import EXIT_STORE, EXIT_USAGE
from vocmine.settings import Settings
from vocmine.store.factory import open_store
from vocmine.store.protocol import Store

console = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

LevelOption = Annotated[
    ThemeLevel, typer.Option(help="theme: the top-level themes; subtheme: the fine themes inside them")
]
StoreOption = Annotated[
    str | None, typer.Option("--store", help="sqlite:///path or https://host:9200 (default: VOCMINE_STORE)")
]


def _settings(**overrides: object) -> Settings:
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v not in (None, [], ())}
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise VocmineError(f"invalid settings: {describe_invalid(exc)}") from exc


def describe_invalid(exc: ValidationError, names: dict[str, str] | None = None) -> str:
    """A pydantic error as a person reads it: each bad value with the field (or the option that set
    it, through ``names``) and what is allowed; no type codes, no links."""
    problems = []
    for error in exc.errors()[:5]:
        field = str(error["loc"][0]) if error["loc"] else "value"
        where = (names or {}).get(field, field)
        got = error.get("input")
        shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        problems.append(f"{where}: {error['msg']}{shown}")
    return "; ".join(problems)


def reporting_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The CLI's one error path: a VocmineError from anywhere in a command is printed as one line
    (the problem and what to change) and ends the command with the exit status of its kind, so no
    command catches errors itself and every command reports them alike."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except VocmineError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_STORE if isinstance(exc, StoreError) else EXIT_USAGE) from exc

    return run


class CommandGroup(typer.Typer):
    """A Typer app whose every command goes through ``reporting_errors``."""

    # Typer's own signature spells out every option; this one passes them all through unchanged.
    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[P, R]) -> Callable[P, R]:
            register(reporting_errors(function))
            return function

        return decorator


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

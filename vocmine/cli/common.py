"""What every ``vocmine`` sub-command shares: consoles, the --store option, settings and errors."""

from __future__ import annotations

import errno
import functools
import sqlite3
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from vocmine.errors import StoreError, VocmineError
from vocmine.extras import missing_extra_message
from vocmine.schema import ThemeLevel
from vocmine.services.ingestion import EXIT_CRASH, EXIT_ENVIRONMENT, EXIT_STORE, EXIT_USAGE
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
    """The CLI's one error path: whatever ends a command early is printed as one line (the problem
    and what to do) and ends it with the exit status of its kind, never a traceback and never 1
    (which means "finished, some records rejected"): a VocmineError 2 or 3 (usage, store), a
    missing optional dependency 2 naming the extra to install, the store locked or failing
    underneath 3, the machine (disk full, a folder that cannot be written,
    out of memory) 4, anything else is a bug: 5, with the traceback written to a log file named in
    the message. No command catches errors itself, so every command reports them alike."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise  # typer's own way out of a command
        except VocmineError as exc:
            _fail(str(exc), EXIT_STORE if isinstance(exc, StoreError) else EXIT_USAGE, exc)
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            hint = (
                "another process holds the store: wait for it to finish, or use another --store"
                if locked
                else "check the disk and the store file's permissions"
            )
            _fail(f"the store failed: {exc} ({hint})", EXIT_STORE, exc)
        except MemoryError as exc:
            _fail("out of memory (lower VOCMINE_BATCH_SIZE or VOCMINE_MAX_RECORD_BYTES)", EXIT_ENVIRONMENT, exc)
        except OSError as exc:
            _fail(_describe_os_error(exc), EXIT_ENVIRONMENT, exc)
        except ModuleNotFoundError as exc:  # an optional dependency: name the extra that brings it
            message = missing_extra_message(exc)
            if message is not None:
                _fail(message, EXIT_USAGE, exc)
            _crash(exc)
        except Exception as exc:
            _crash(exc)
        raise AssertionError("unreachable")  # _fail always raises

    return run


def _crash(exc: Exception) -> None:
    _fail(
        f"vocmine failed unexpectedly ({type(exc).__name__}): a bug; please report it with the command "
        f"and the traceback in {_crash_log(exc)}",
        EXIT_CRASH,
        exc,
    )


def _fail(message: str, status: int, cause: BaseException) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)  # one line: a command to copy stays whole
    raise typer.Exit(status) from cause


def _describe_os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}: free space and run again (an interrupted ingest completes when re-run)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"cannot write{where}: {exc.strerror}; choose a writable folder (--report-dir, --store) "
            "or fix its permissions"
        )
    return f"{exc.strerror or exc}{where}"


def _crash_log(exc: Exception) -> str:
    """Where the traceback goes: the frames and the error's type only. Its message is left out of
    the log and the console, because it may quote a customer's text."""
    with tempfile.NamedTemporaryFile("w", prefix="vocmine-crash-", suffix=".log", delete=False) as log:
        log.write("Traceback (most recent call last):\n" + "".join(traceback.format_tb(exc.__traceback__)))
        log.write(f"{type(exc).__module__}.{type(exc).__qualname__} (message withheld: it may hold personal data)\n")
    return log.name


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

"""Whatever ends a command early is one line and an exit status of its kind, never a traceback and
never 1 (which means "finished, some records rejected")."""

from __future__ import annotations

import errno
import re
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import DATA
from vocmine.cli.common import CommandGroup
from vocmine.cli.main import app
from vocmine.errors import StoreError
from vocmine.services.ingestion import EXIT_CRASH, EXIT_ENVIRONMENT, EXIT_STORE, EXIT_USAGE

runner = CliRunner()
SECRET = "jane.doe@example.org says her card 4111 1111 1111 1111 was charged"

FAILURES = {
    "disk-full": (
        OSError(errno.ENOSPC, "No space left on device", "/data/store.sqlite"),
        EXIT_ENVIRONMENT,
        "disk is full",
    ),
    "read-only": (PermissionError(errno.EACCES, "Permission denied", "/reports"), EXIT_ENVIRONMENT, "cannot write"),
    "locked": (sqlite3.OperationalError("database is locked"), EXIT_STORE, "another process holds the store"),
    "store": (StoreError("cannot open the store"), EXIT_STORE, "cannot open the store"),
    "memory": (MemoryError(), EXIT_ENVIRONMENT, "out of memory"),
    "bug": (KeyError(SECRET), EXIT_CRASH, "a bug"),
    "extra": (ModuleNotFoundError("No module named 'torch'", name="torch"), EXIT_USAGE, "pip install 'vocmine["),
    "no-extra": (ModuleNotFoundError("No module named 'nowhere'", name="nowhere"), EXIT_CRASH, "a bug"),
}


def _app() -> typer.Typer:
    failing = CommandGroup()

    @failing.command()
    def fail(kind: str) -> None:
        raise FAILURES[kind][0]

    @failing.command()
    def finish_with_rejections() -> None:
        raise typer.Exit(1)

    return failing


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_kind_of_failure_has_its_exit_status_and_one_line(kind):
    _, status, words = FAILURES[kind]
    result = runner.invoke(_app(), ["fail", kind])
    assert result.exit_code == status, result.output
    assert words in result.output and "Traceback" not in result.output
    assert SECRET not in result.output  # an unexpected error's message may quote a customer
    if status == EXIT_CRASH:
        log = Path(re.search(r"traceback in (\S+)", result.output).group(1))  # type: ignore[union-attr]
        text = log.read_text(encoding="utf-8")
        assert "Traceback" in text and "Error" in text and SECRET not in text
        log.unlink()


def test_typer_exits_pass_through_unchanged():
    assert runner.invoke(_app(), ["finish-with-rejections"]).exit_code == 1


def test_a_report_folder_that_cannot_be_made_is_an_environment_failure(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "ingest",
            str(DATA / "chat" / "native.jsonl"),
            "--store",
            f"sqlite:///{tmp_path / 'store.sqlite'}",
            "--report-dir",
            str(blocker / "reports"),
        ],
    )
    assert result.exit_code == EXIT_ENVIRONMENT and "Traceback" not in result.output
    assert "a-file" in result.output
    assert EXIT_USAGE == 2  # the statuses the README documents stay as they were

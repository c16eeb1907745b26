"""A live Elasticsearch-API server for the tests: the cluster ``VOCMINE_TEST_ES_URL`` names, or else
the noida-db emulator (the ``dev`` extra's ``noida-db``), started on a free loopback port with a data
directory of its own and stopped at the end.

noida-db is an emulator, not Elasticsearch: where it answers differently, the test says so with the
``emulator_differs`` marker (tests/conftest.py), which marks it an expected failure on the emulator
only; against a real cluster every assertion holds in full.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ES_URL_VARIABLE = "VOCMINE_TEST_ES_URL"
HOW_TO_RUN = (
    "the live Elasticsearch tests need the noida-db emulator (pip install 'noida-db==0.2.3', part of the dev "
    "extra: `make test` installs it) or a cluster: `ELASTIC_PASSWORD=pw docker compose up -d elasticsearch`, then "
    "VOCMINE_TEST_ES_URL=http://elastic:pw@localhost:9200 (README 'Running against Elasticsearch'; for an https "
    "cluster with a self-signed certificate also set VOCMINE_ES_CA_CERTS)"
)
START_SECONDS = 20.0  # it answers in a few hundredths of a second; a loaded CI machine gets room


class ServerError(RuntimeError):
    """The emulator did not start, or the given URL is not what it should be."""


@dataclass(frozen=True)
class LiveServer:
    url: str
    emulator: bool  # noida-db (tests marked ``emulator_differs`` are expected to fail on it)
    version: str  # what the server reports itself as


def given_url() -> str | None:
    """The real cluster the tests are asked to use, if any."""
    return os.environ.get(ES_URL_VARIABLE) or None


def emulator_installed() -> bool:
    return importlib.util.find_spec("noida_db") is not None


def server_info(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """``GET /`` on the server (the client's ``info()``, without a client)."""
    request = urllib.request.Request(url.rstrip("/") + "/", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: dict[str, Any] = json.load(response)
    return body


def is_emulator(info: dict[str, Any]) -> bool:
    """noida-db reports itself as Elasticsearch 8.15.3, with its own name in the build hash."""
    return "noida" in str(info.get("version", {}).get("build_hash", "")) or info.get("name") == "noida-db"


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it; the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def emulator(data_dir: Path, *, attempts: int = 3) -> Iterator[LiveServer]:
    """noida-db serving only its Elasticsearch API on a free loopback port, data in ``data_dir``;
    stopped (its whole process group) on exit. Another process taking the port between our probe
    and its bind is retried on a new port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    last_error: ServerError | None = None
    for attempt in range(attempts):
        port = free_port()
        log_path = data_dir.parent / f"{data_dir.name}-{attempt}.log"
        with log_path.open("wb") as log:
            process = _start(data_dir, port, log)
            try:
                url = f"http://127.0.0.1:{port}"
                try:
                    info = _wait_until_answering(url, process)
                except ServerError as exc:
                    last_error = ServerError(f"{exc}; its output: {_tail(log_path)}")
                    continue
                yield LiveServer(url=url, emulator=True, version=str(info.get("version", {}).get("number", "?")))
                return
            finally:
                _stop(process)
    raise last_error or ServerError("noida-db did not start")


def _start(data_dir: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "noida_db.cli",  # the package's console script, run with this interpreter (no PATH lookup)
        "start",
        "--data-dir",
        str(data_dir),
        "--only",
        "elasticsearch",
        "--host",
        "127.0.0.1",
        "--elasticsearch-port",
        str(port),
    ]
    # A session of its own: the script runs the native server as a child, and stopping the group
    # stops both.
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )


def _wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise ServerError(f"noida-db exited with status {process.returncode} before answering at {url}")
        try:
            return server_info(url, timeout=1.0)
        except (OSError, urllib.error.URLError, ValueError):
            if time.monotonic() > deadline:
                raise ServerError(f"noida-db did not answer at {url} within {START_SECONDS:.0f} s") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(path: Path, size: int = 2000) -> str:
    text = path.read_text(errors="replace")
    return text[-size:].strip() or "(nothing)"

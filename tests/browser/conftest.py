"""Browser tests of the web console: headless Chromium, driven by Playwright, against ``vocmine serve``
on a store the session builds (the demo corpus, 300 conversations, analysed by the shipped models).

Chromium comes from Debian's packages (``apt-get install chromium``; ``.ci/run`` installs it when
missing) and is launched by path, ``/usr/bin/chromium`` or ``VOCMINE_CHROMIUM``; Playwright's own
browser download is never used. Without Chromium or Playwright the tests skip and say how to run them.

People: each test signs in as one of three people with personal keys: an analyst (read), a quality
reviewer (read and review) and an admin. Tests that write pick items of their own (a theme, a review item), so
they do not depend on the order they run in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

CHROMIUM = os.environ.get("VOCMINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# who: (name, scopes). A quality reviewer reads conversations and works the queue: read and review.
PEOPLE = {
    "analyst": ("Ana Analyst", ["read"]),
    "reviewer": ("Rita Reviewer", ["read", "review"]),
    "admin": ("Adam Admin", ["admin"]),
}
HOW_TO_RUN = (
    "install Debian's Chromium (as root: apt-get install chromium; .ci/run does this) or set VOCMINE_CHROMIUM "
    "to a Chromium executable, then run: .venv/bin/python -m pytest tests/browser"
)


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (it is in the dev lock: make test installs it)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}: {HOW_TO_RUN}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def console_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus (300 conversations) ingested, analysed and themed: the store file."""
    from typer.testing import CliRunner

    from vocmine.cli.main import app

    workdir = tmp_path_factory.mktemp("console") / "demo"
    result = CliRunner().invoke(app, ["demo", "--workdir", str(workdir), "--conversations", "300", "--seed", "11"])
    assert result.exit_code == 0, result.output
    return workdir / "vocmine.sqlite"


@pytest.fixture(scope="session")
def tokens(console_store: Path) -> dict[str, str]:
    """One personal key per person (see PEOPLE)."""
    from vocmine.services.keys import create_key
    from vocmine.store.sqlite.store import SQLiteStore

    store = SQLiteStore(str(console_store))
    try:
        return {who: create_key(store, name, scopes)[1] for who, (name, scopes) in PEOPLE.items()}
    finally:
        store.close()


@pytest.fixture(scope="session")
def console_url(console_store: Path, tokens: dict[str, str]) -> Iterator[str]:
    """``vocmine serve`` on the store (models loaded, so semantic search works), its base URL."""
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VOCMINE_CONSOLE_SECRET": "browser-tests"}
    command = [
        sys.executable,
        "-m",
        "vocmine.cli.main",
        "serve",
        "--store",
        f"sqlite:///{console_store}",
        "--port",
        str(port),
    ]
    log = console_store.parent / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"vocmine serve did not start: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, console_url: str) -> Iterator[Any]:
    """A function that opens a fresh browser context (its own cookies) and returns its page; the
    browser's time zone is Europe/Madrid, so pages show times there."""
    contexts = []

    def open_page() -> Any:
        context = browser.new_context(base_url=console_url, timezone_id="Europe/Madrid", locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Any, token: str, next_path: str = "/") -> Any:
    """Sign in through the form, as a person would; returns the page, on ``next_path``."""
    page.goto(f"/sign-in?next={quote(next_path, safe='')}")
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")
    return page


@pytest.fixture
def as_person(new_page: Any, tokens: dict[str, str]) -> Any:
    """``as_person("reviewer", "/review")``: a fresh page signed in as that person, on that path."""

    def open_as(who: str, path: str = "/") -> Any:
        return sign_in(new_page(), tokens[who], path)

    return open_as

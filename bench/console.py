"""The web console in headless Chromium: time to content of each page, and what a page loads.

    python bench/console.py [--sizes 100000 1000000] [--runs 5] [--out bench/results/console.json]
    python bench/console.py --screenshots docs/console --store-file var/demo/vocmine.sqlite

For each size it serves the embedded bench store of ``bench/api.py`` (built there once, under
``var/bench-api/``: synthetic analysed conversations over 40 themes) with ``vocmine serve`` and one
worker, signs in as an admin, and opens every console page ``--runs`` times, each in a fresh browser
context (an empty cache: the worst case, a first visit), after a first visit of the page since the
server started (reported on its own: it pays for one-time preparation such as a time zone's buckets):

* time to content: from the start of navigation to the first contentful paint (the pages are rendered
  on the server, so the first paint holds the page's numbers and charts); also the server's time to
  the first byte and the load event;
* size: the bytes a cold visit transfers (the HTML, the stylesheet and script), from the browser's
  resource timing.

Target (issue 19): every page under 1 s at 1M conversations with one worker.

``--screenshots DIR`` instead takes a screenshot (the first 1280 × 1000 pixels) of every page on
``--store-file`` (the demo store: ``make demo DEMO_FLAGS=`` builds it) for the documentation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.api import _free_port, _wait_until_idle, build_store  # noqa: E402
from vocmine.services.keys import create_key  # noqa: E402
from vocmine.store.query import SearchQuery  # noqa: E402
from vocmine.store.sqlite.store import SQLiteStore  # noqa: E402

CHROMIUM = os.environ.get("VOCMINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

# What the page script reports: navigation timing, first contentful paint and transferred bytes.
TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const bytes = [nav, ...performance.getEntriesByType('resource')].reduce((n, e) => n + (e.transferSize || 0), 0);
  return {ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          fcp: paint ? paint.startTime : null, bytes: bytes, html_bytes: nav.encodedBodySize};
}"""


def pages(store_file: Path) -> dict[str, str]:
    """Every console page, with ids taken from the store (the biggest theme, a conversation)."""
    store = SQLiteStore(str(store_file))
    try:
        themes = [t for t in store.list_themes() if t.status == "active"]
        top = [t for t in themes if t.level == "theme"] or themes  # a top-level theme where the store has them
        theme = max(top, key=lambda t: t.size).id if top else None
        first = store.search(SearchQuery(limit=1)).hits
        conversation = first[0].conversation.id if first else None
    finally:
        store.close()
    found = {
        "overview": "/",
        "themes": "/themes",
        "emerging": "/emerging",
        "priorities": "/priorities",
        "drivers": "/drivers",
        "search (text, filtered)": "/search?q=refund&channel=chat",
        "search (browse)": "/search?sentiment=negative",
        "review queue": "/review",
        "agents": "/agents",
        "alerts": "/alerts",
    }
    if theme:
        found["theme"] = f"/themes/{theme}"
    if conversation:
        found["conversation"] = f"/conversations/{conversation}"
    return found


@contextmanager
def serving(store_file: Path, load_models: bool = False) -> Iterator[tuple[str, str]]:
    """``vocmine serve`` (one worker) on the store; yields its base URL and an admin token."""
    store = SQLiteStore(str(store_file))
    _, token = create_key(store, "Console Bench", ["admin"])
    store.close()
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VOCMINE_API_LOAD_MODELS": str(load_models).lower()}
    command = [sys.executable, "-m", "vocmine.cli.main", "serve", "--store", f"sqlite:///{store_file}"]
    log = (store_file.parent / "console-serve.log").open("wb")  # the server's own lines, off the bench's table
    server = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # start-up builds the in-memory aggregation columns: ~20 s at 1M
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        _wait_until_idle(server.pid)
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def session_cookies(browser: Any, url: str, token: str) -> list[dict[str, Any]]:
    """Sign in once through the form; the cookies every measured context starts with."""
    context = browser.new_context(base_url=url, timezone_id="Europe/Madrid")  # the zone sign-in takes
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    cookies: list[dict[str, Any]] = context.cookies()
    context.close()
    return cookies


def visit(browser: Any, url: str, cookies: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """One cold visit (a fresh context: nothing cached) of ``path``: its timings and bytes."""
    context = browser.new_context(base_url=url, timezone_id="Europe/Madrid")
    context.add_cookies(cookies)
    page = context.new_page()
    answer = page.goto(path, wait_until="load")
    page.wait_for_timeout(50)  # let the paint entry land
    timing: dict[str, Any] = page.evaluate(TIMING)
    timing["status"] = answer.status if answer else None
    context.close()
    return timing


def measure(store_file: Path, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with serving(store_file) as (url, token), chromium() as browser:
        cookies = session_cookies(browser, url, token)
        for name, path in pages(store_file).items():
            # The first visit of a page after start-up (the server's first call of its routes) is
            # reported on its own, not in the percentiles.
            first = visit(browser, url, cookies, path)
            visits = [visit(browser, url, cookies, path) for _ in range(runs)]
            content = [v["fcp"] if v["fcp"] is not None else v["dcl"] for v in visits]
            results[name] = {
                "path": path,
                "status": visits[0]["status"],
                "first_visit_time_to_content_ms": round(first["fcp"] if first["fcp"] is not None else first["dcl"], 1),
                "time_to_content_ms_p50": round(statistics.median(content), 1),
                "time_to_content_ms_max": round(max(content), 1),
                "server_ttfb_ms_p50": round(statistics.median(v["ttfb"] for v in visits), 1),
                "load_ms_p50": round(statistics.median(v["load"] for v in visits), 1),
                "transferred_kb": round(visits[0]["bytes"] / 1024, 1),
                "html_kb": round(visits[0]["html_bytes"] / 1024, 1),
            }
            row = results[name]
            print(
                f"  {name:24} {row['status']}  first {row['first_visit_time_to_content_ms']:7.1f} ms  "
                f"content p50 {row['time_to_content_ms_p50']:7.1f} ms  "
                f"max {row['time_to_content_ms_max']:7.1f} ms  ttfb {row['server_ttfb_ms_p50']:7.1f} ms  "
                f"{row['transferred_kb']:6.1f} KB",
                flush=True,
            )
    return results


def screenshots(store_file: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with serving(store_file, load_models=True) as (url, token), chromium() as browser:
        cookies = session_cookies(browser, url, token)
        context = browser.new_context(
            base_url=url, timezone_id="Europe/Madrid", viewport={"width": 1280, "height": 1000}
        )
        context.add_cookies(cookies)
        page = context.new_page()
        for name, path in pages(store_file).items():
            page.goto(path, wait_until="load")
            target = folder / f"{name.split(' ')[0]}.png"
            if target.exists() and "(" in name:
                continue  # one picture per page
            page.screenshot(path=str(target))  # the first screenful: what a person sees on opening it
            print(f"  {target}", flush=True)
        context.close()
        # The sign-in page, as a person first sees it.
        page = browser.new_page(viewport={"width": 1280, "height": 600})
        page.goto(f"{url}/sign-in")
        page.screenshot(path=str(folder / "sign-in.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "bench-api")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "console.json")
    parser.add_argument("--screenshots", type=Path, help="take screenshots into this folder instead")
    parser.add_argument("--store-file", type=Path, help="with --screenshots: the store to show")
    args = parser.parse_args()
    if args.screenshots:
        if not args.store_file or not args.store_file.exists():
            parser.error("--screenshots needs --store-file, an existing store (make demo DEMO_FLAGS= builds one)")
        screenshots(args.store_file, args.screenshots)
        return
    report: dict[str, Any] = {
        "what": "console pages in headless Chromium, cold cache, one uvicorn worker, embedded store",
        "target": "every page under 1 s at 1M conversations",
        "runs": args.runs,
        "sizes": {},
    }
    for size in args.sizes:
        path = args.folder / f"store-{size}.sqlite"
        build_store(path, size)
        print(f"{size:,} conversations ({path}):", flush=True)
        report["sizes"][str(size)] = measure(path, args.runs)
    slowest = {
        size: max(pages.values(), key=lambda row: row["time_to_content_ms_max"])
        for size, pages in report["sizes"].items()
    }
    report["slowest_ms"] = {size: row["time_to_content_ms_max"] for size, row in slowest.items()}
    report["slowest_first_visit_ms"] = {
        size: max(row["first_visit_time_to_content_ms"] for row in pages.values())
        for size, pages in report["sizes"].items()
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

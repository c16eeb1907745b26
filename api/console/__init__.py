"""The web console at ``/``: server-rendered pages for CX analysts and quality reviewers, in the same
process as the API, over the same store, keys and scopes (see docs/console.md).

Each page is a module in ``pages/`` with its own router and template; they read through the same
use cases as the API (``vocmine.services``), so a page and its ``/v1`` route always agree.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from vocmine_api.console.people import ConsoleError, SignInNeeded, person_of, sign_in_url
from vocmine_api.console.render import page

STATIC = "/console/static"


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    """An error on a console page, as a page that says what went wrong and what to change."""
    person = person_of(request)
    return page(request, person, "error.html", "Error", status_code=status, status=status, message=message, hint=hint)


def mount_console(app: FastAPI) -> None:
    from vocmine_api.console.pages import ROUTERS

    app.mount(STATIC, StaticFiles(directory=str(files("vocmine_api.console") / "static")), name="console-static")
    for router in ROUTERS:
        app.include_router(router)
    app.state.page_error = error_page  # api/errors.py answers errors on console paths with it

    @app.exception_handler(SignInNeeded)
    async def _sign_in(_: Request, exc: SignInNeeded) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    @app.exception_handler(ConsoleError)
    async def _console(request: Request, exc: ConsoleError) -> Response:
        return error_page(request, exc.status, exc.message, exc.hint)

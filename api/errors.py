"""One JSON error shape for every failure:

    {"error": {"status": 404, "code": "not_found", "message": "...", "hint": "what to change"}}

vocmine's own errors map to 4xx by kind (a bad option or query is 400, a missing object 404, a
store that cannot be reached 503); request validation is a 400 that lists each field and problem;
anything unexpected is a 500 whose message says so without leaking internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vocmine.errors import ConflictError, NotFoundError, StoreError, VocmineError

log = logging.getLogger("vocmine.api")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests",
          500: "internal", 503: "unavailable"}  # fmt: skip


def error_body(status: int, message: str, hint: str | None = None, code: str | None = None) -> dict[str, object]:
    return {"error": {"status": status, "code": code or _CODES.get(status, "error"), "message": message, "hint": hint}}


def error_response(
    status: int, message: str, hint: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, hint), status_code=status, headers=headers)


class ApiError(Exception):
    def __init__(self, status: int, message: str, hint: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers


def _answer(
    request: Request, status: int, message: str, hint: str | None, headers: dict[str, str] | None = None
) -> Response:
    """JSON for the API; on a web console page (any path outside /v1 and /docs, when the console is
    mounted) a page that says the same."""
    page_error = getattr(request.app.state, "page_error", None)
    if page_error is not None and not request.url.path.startswith(("/v1/", "/docs")):
        return page_error(request, status, message, hint)
    return error_response(status, message, hint, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return _answer(request, exc.status, exc.message, exc.hint, exc.headers)

    @app.exception_handler(VocmineError)
    async def _vocmine(request: Request, exc: VocmineError) -> Response:
        status = 400
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, ConflictError):
            status = 409
        elif isinstance(exc, StoreError):
            status = 503
        return _answer(request, status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
            problems.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
        return _answer(request, 400, "invalid request: " + "; ".join(problems), "fix the listed parameters")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        hint = "see /v1/openapi.json for the routes" if exc.status_code in (404, 405) else None
        return _answer(request, exc.status_code, str(exc.detail), hint, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return _answer(request, 500, "the server failed on this request", "retry; if it persists, report the time")

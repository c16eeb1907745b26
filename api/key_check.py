"""Authentication before the request body is read, as ASGI middleware.

FastAPI reads and parses a route's body before it runs the route's dependencies, so with the key
checked only in a dependency (``deps.require``) a caller without a key who sends malformed JSON got
a 400 describing the body, and an anonymous caller could make the server parse what it sent. Here
every ``/v1/`` request except the health probes must carry a known, unrevoked key before the route
(and its body) is touched: otherwise 401, as ``require`` answers it. Which scopes the key holds is
still checked per route by ``require``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from vocmine.services.keys import verify_token
from vocmine_api.deps import CHALLENGE, INVALID_HINT, MISSING_HINT, token_of
from vocmine_api.errors import error_response

PUBLIC = frozenset({"/v1/health", "/v1/ready", "/v1/openapi.json"})  # the schema: see app.py


class KeyBeforeBody:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or path in PUBLIC or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights carry no key by design
            return
        token = token_of(Headers(scope=scope))
        store = scope["app"].state.store
        if not token:
            refusal = error_response(401, "missing API key", MISSING_HINT, CHALLENGE)
        elif store is not None and await run_in_threadpool(verify_token, store, token) is None:
            refusal = error_response(401, "invalid or revoked API key", INVALID_HINT, CHALLENGE)
        else:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)

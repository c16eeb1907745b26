"""Authentication before the request body is read, as ASGI middleware.

FastAPI reads and parses a route's body before it runs the route's dependencies, so with the key
checked only in a dependency (``deps.require``) a caller without a key who sends malformed JSON got
a 400 describing the body, and an anonymous caller could make the server parse what it sent. Here
every ``/v1/`` request except the health probes must carry a known, unrevoked key before the route
(and its body) is touched: otherwise 401, as ``require`` answers it. Which scopes the key holds is
still checked per route by ``require``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool

from vocmine.services.keys import verify_token
from vocmine_api.errors import error_body

PUBLIC = frozenset({"/v1/health", "/v1/ready"})
CHALLENGE = (b"www-authenticate", b"Bearer")


class KeyBeforeBody:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or path in PUBLIC or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights carry no key by design
            return
        headers = {name.lower(): value for name, value in scope.get("headers") or []}
        token = _token(headers)
        if not token:
            await _refuse(send, "missing API key", "send Authorization: Bearer <key> (create one: vocmine keys create)")
            return
        store = scope["app"].state.store
        if store is not None and await run_in_threadpool(verify_token, store, token) is None:
            await _refuse(send, "invalid or revoked API key", "check the key, or create a new one")
            return
        await self.app(scope, receive, send)


def _token(headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return key or None


async def _refuse(send: Any, message: str, hint: str) -> None:
    body = json.dumps(error_body(401, message, hint)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                CHALLENGE,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Request body size limit as ASGI middleware: a declared Content-Length over the limit is refused
at once, and a chunked body is counted as it streams and cut off when it passes the limit."""

from __future__ import annotations

from typing import Any

from vocmine_api.errors import error_response


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        started = False

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        refusal = error_response(413, f"request body over {self.max_bytes:,} bytes", "send smaller batches")
        await refusal(scope, receive, send)


class _TooLarge(BaseException):
    """Raised from ``receive`` when a streamed body passes the limit. A BaseException, so that the
    framework's body parsing (which turns any Exception into "400 error parsing the body") lets it
    through to this middleware, which answers 413."""

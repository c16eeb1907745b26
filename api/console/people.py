"""Who is using the console: the signed-in person, what their key's scopes let them see and do, and
the checks every console write passes (scope, CSRF token, same origin)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request

from vocmine.schema import ApiKey
from vocmine.services.keys import allows
from vocmine_api.console.session import COOKIE, Session, read
from vocmine_api.deps import SettingsDep, StoreDep

TZ_COOKIE = "vocmine_tz"


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to the sign-in page (see console/__init__.py)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ConsoleError(Exception):
    """A console request that cannot be answered: rendered as a page saying what to change."""

    def __init__(self, status: int, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


@dataclass(frozen=True)
class Person:
    key: ApiKey
    session: Session
    tz: ZoneInfo

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def actor(self) -> str:
        """How the audit trail names this person (the API names a key's writes the same way)."""
        return f"key:{self.key.id} ({self.key.name})"

    def can(self, scope: str) -> bool:
        return allows(self.key, scope)


def user_zone(request: Request) -> ZoneInfo:
    """The time zone the person chose (a cookie set at sign-in from the browser, changeable in the
    header); UTC when none or an unknown one."""
    try:
        return ZoneInfo(request.cookies.get(TZ_COOKIE) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def person_of(request: Request) -> Person | None:
    """The signed-in person of a request, if any (for pages outside a route's dependencies, e.g. errors)."""
    state = request.app.state
    session = read(state.store, request.cookies.get(COOKIE), state.settings) if state.store is not None else None
    return Person(session.key, session, user_zone(request)) if session else None


async def _signed_in(request: Request, store: StoreDep, settings: SettingsDep) -> Person:
    session = read(store, request.cookies.get(COOKIE), settings)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    return Person(session.key, session, user_zone(request))


def viewer(scope: str = "read") -> Callable[..., Awaitable[Person]]:
    """A dependency: the signed-in person, who must hold ``scope`` to see the page."""

    async def check(person: Annotated[Person, Depends(_signed_in)]) -> Person:
        if not person.can(scope):
            raise ConsoleError(
                403,
                f"your key ({person.name}) lacks the {scope!r} scope this page needs",
                f"ask an admin for a key with --scope {scope}",
            )
        return person

    return check


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # browsers send Origin on cross-site POSTs; its absence is a same-site form or a tool
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def writer(scope: str | None) -> Callable[..., Awaitable[Person]]:
    """A dependency for a console write: the person must hold ``scope`` (None: any signed-in person,
    e.g. signing out), the request must come from this site and carry the session's CSRF token (form
    field ``csrf`` or header ``X-CSRF-Token``)."""

    async def check(request: Request, person: Annotated[Person, Depends(_signed_in)]) -> Person:
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            token = str((await request.form()).get("csrf") or "")
        if not token or not hmac.compare_digest(token, person.session.csrf) or not _same_origin(request):
            raise ConsoleError(
                403, "this form has expired or did not come from this console", "reload the page and retry"
            )
        if scope is not None and not person.can(scope):
            raise ConsoleError(
                403,
                f"your key ({person.name}) lacks the {scope!r} scope this action needs",
                f"ask an admin for a key with --scope {scope}",
            )
        return person

    return check


def sign_in_url(next_path: str) -> str:
    return f"/sign-in?next={quote(next_path, safe='')}"


Reader = Annotated[Person, Depends(viewer("read"))]
Anyone = Annotated[Person, Depends(_signed_in)]  # any signed-in person, whatever the scopes (preferences)

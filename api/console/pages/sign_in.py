"""Signing in and out, and the time zone pages show times in."""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from vocmine.services.keys import allows, verify_token
from vocmine_api.console import session
from vocmine_api.console.people import TZ_COOKIE, Anyone, Person, writer
from vocmine_api.console.render import page
from vocmine_api.deps import SettingsDep, StoreDep

router = APIRouter(include_in_schema=False)
ZONES = sorted(available_timezones())


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL someone put in a link (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/") -> Response:
    return page(request, None, "sign_in.html", "Sign in", next=_safe_next(next), problem=None)


@router.post("/sign-in")
def sign_in(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    tz: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    found = verify_token(store, key) if key.strip() else None
    if found is None:
        problem = (
            "Paste your personal API key (it starts with vm_)."
            if not key.strip()
            else "That key is not valid or has been revoked: check it, or ask an admin for a new one "
            '(vocmine keys create --name "Your Name" --scope read).'
        )
        return page(request, None, "sign_in.html", "Sign in", status_code=401, next=_safe_next(next), problem=problem)
    cookie, opened = session.issue(store, found, settings)
    target = _safe_next(next)
    if target == "/" and not allows(found, "read") and allows(found, "review"):
        target = "/review"  # a reviewer-only key lands on its work, not on a page it may not read
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        session.COOKIE,
        cookie,
        max_age=int(opened.expires - time.time()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    if tz in ZONES:
        response.set_cookie(TZ_COOKIE, tz, max_age=365 * 86400, samesite="lax", secure=_secure(request), path="/")
    return response


@router.post("/sign-out")
def sign_out(request: Request, _: Annotated[Person, Depends(writer(None))]) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(session.COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/preferences/time-zone")
def choose_time_zone(
    request: Request,
    _: Annotated[Person, Depends(writer(None))],
    tz: Annotated[str, Form(max_length=64)],
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        tz = "UTC"
    response = RedirectResponse(_safe_next(back), status_code=303)
    response.set_cookie(TZ_COOKIE, tz, max_age=365 * 86400, samesite="lax", secure=_secure(request), path="/")
    return response


@router.get("/preferences")
def preferences(request: Request, person: Anyone, back: str = "/") -> Response:
    return page(request, person, "preferences.html", "Preferences", zones=ZONES, back=_safe_next(back))

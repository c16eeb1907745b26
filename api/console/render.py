"""Rendering console pages: the Jinja2 templates in ``templates/``, the filters they format numbers
and times with (in the person's time zone), and the navigation every page shares."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from vocmine_api.console.people import Person

TEMPLATES = Jinja2Templates(directory=str(files("vocmine_api.console") / "templates"))

# (path, label, scope): the pages in the header, each shown to people whose key holds its scope.
NAVIGATION = [
    ("/", "Overview", "read"),
    ("/themes", "Themes", "read"),
    ("/emerging", "Emerging", "read"),
    ("/priorities", "Priorities", "read"),
    ("/drivers", "Drivers", "read"),
    ("/search", "Search", "read"),
    ("/review", "Review queue", "review"),
    ("/agents", "Agents", "read"),
    ("/alerts", "Alerts", "admin"),
]


def _local(value: datetime | str | None, person_tz: Any, with_time: bool = True) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(person_tz)
    return local.strftime("%Y-%m-%d %H:%M %Z") if with_time else local.strftime("%Y-%m-%d")


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def signed(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:+,.{digits}f}"


TEMPLATES.env.filters.update(number=number, percent=percent, signed=signed)


def url_with(request: Request, path: str | None = None, **changes: Any) -> str:
    """This page's URL (or ``path``) with its query parameters, some replaced (None removes one):
    how filter bars, pagers and sort links keep the other choices."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for name, value in changes.items():
        if value is None:
            continue
        params += [(name, v) for v in value] if isinstance(value, list | tuple) else [(name, value)]
    query = urlencode(params)
    return (path or request.url.path) + (f"?{query}" if query else "")


def page(
    request: Request, person: Person | None, template: str, title: str, status_code: int = 200, **context: Any
) -> Response:
    """A console page: ``template`` inside the shared layout, with the person, their CSRF token,
    the navigation they may use and time formatting in their zone."""
    tz = person.tz if person else None

    def local(value: datetime | str | None) -> str:
        return _local(value, tz or UTC)

    def local_day(value: datetime | date | str | None) -> str:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        return _local(value, tz or UTC, with_time=False)

    nav = [(path, label) for path, label, scope in NAVIGATION if person is None or person.can(scope)]
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "person": person,
            "csrf": person.session.csrf if person else "",
            "nav": nav if person else [],
            "current": request.url.path,
            "local": local,
            "local_day": local_day,
            "url_with": lambda path=None, **changes: url_with(request, path, **changes),
            **context,
        },
        status_code=status_code,
    )

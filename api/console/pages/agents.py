"""Agents and teams, the coaching view for team leads: per agent or team, conversations handled, mean
customer sentiment, how often a conversation ended better or worse than it began, and the share
with a flag, over the filter bar's filters, with the weekly sentiment as a sparkline. The numbers
are those of ``GET /v1/agents`` (the same store aggregate, the same ``agent_view``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vocmine.insights.agents import AgentPoint, agent_view
from vocmine.store.query import AgentGrouping
from vocmine_api.console.charts import sparkline
from vocmine_api.console.filters import FiltersDep
from vocmine_api.console.people import ConsoleError, Reader
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep
from vocmine_api.routes.agents import NOTE

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# sort name → (column heading, the value sorted on); every column sorts with "no value" last.
COLUMNS: dict[str, str] = {
    "key": "Name",
    "conversations": "Conversations",
    "mean_sentiment": "Mean sentiment",
    "improved_share": "Improved",
    "worsened_share": "Worsened",
    "flag_rate": "Flagged",
}


def _sorted(points: list[AgentPoint], sort: str) -> list[AgentPoint]:
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in COLUMNS:
        raise ConsoleError(400, f"cannot sort by {column!r}", f"sort by one of: {', '.join(COLUMNS)}")
    known = [p for p in points if getattr(p, column) is not None]
    missing = [p for p in points if getattr(p, column) is None]
    known.sort(key=lambda p: (getattr(p, column), p.key), reverse=descending)
    return known + sorted(missing, key=lambda p: p.key)


@router.get("/agents")
def agents_page(
    request: Request,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    by: AgentGrouping = "team",
    sort: str = "-conversations",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    points = _sorted(agent_view(store.agent_aggregates(by, filters.filter, None)), sort)
    start = (page_number - 1) * PAGE_SIZE
    shown = points[start : start + PAGE_SIZE]
    # The weekly mean sentiment of the rows shown: one more aggregate, by week.
    weekly = agent_view(store.agent_aggregates(by, filters.filter, "week")) if shown else []
    weeks = sorted({p.bucket for p in weekly if p.bucket})
    series: dict[str, dict[str, float | None]] = {}
    for p in weekly:
        if p.bucket:
            series.setdefault(p.key, {})[p.bucket] = p.mean_sentiment
    # Links to the conversations of a row: the search page with the same filters and this agent or team.
    kept = [(k, v) for k, vs in filters.values.items() if k not in ("agent", "team") for v in vs]
    rows: list[dict[str, Any]] = [
        {
            "point": p,
            "search": "/search?" + urlencode([*kept, (by, p.key)]),
            "trend": sparkline(
                [series.get(p.key, {}).get(w) for w in weeks],
                label=f"weekly mean sentiment of {p.key}, {weeks[0] if weeks else ''} to {weeks[-1] if weeks else ''}",
            ),
        }
        for p in shown
    ]
    pages = max(1, -(-len(points) // PAGE_SIZE))
    return page(
        request,
        person,
        "agents.html",
        "Agents and teams",
        rows=rows,
        by=by,
        sort=sort,
        columns=COLUMNS,
        filters=filters,
        note=NOTE,
        total=len(points),
        page_number=page_number,
        pages=pages,
    )

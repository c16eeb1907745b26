"""Per-agent and per-team sentiment, trajectory and flag rates over time, as coaching information
(how to read them: vocmine/insights/agents.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from vocmine.insights.agents import AgentPoint, agent_view
from vocmine.store.query import AgentGrouping, Interval
from vocmine_api.deps import FilterDep, StoreDep, require
from vocmine_api.routes.themes import NOT_FOUND

router = APIRouter(prefix="/v1", tags=["agents"], dependencies=[Depends(require("read"))])


class AgentView(BaseModel):
    by: str
    interval: str | None
    note: str
    points: list[AgentPoint]


NOTE = (
    "Coaching information, not a ranking: sentiment depends on why customers call. Compare an agent with "
    "their own past or with peers on the same queue, and read the counts before the shares."
)


@router.get("/agents", response_model=AgentView, responses=NOT_FOUND)
def agents(
    store: StoreDep,
    filter: FilterDep,
    by: AgentGrouping = "agent",
    interval: Interval | None = None,
) -> AgentView:
    """Conversations, mean sentiment, improved / worsened share, flag rate per agent or team."""
    return AgentView(
        by=by, interval=interval, note=NOTE, points=agent_view(store.agent_aggregates(by, filter, interval))
    )

"""Volume, sentiment mix, NPS and CSAT over time: what a dashboard's headline charts are drawn from
(the console's overview page reads the same figures: ``vocmine/insights/scores.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from vocmine.insights.scores import ScorePoint, overall
from vocmine.store.query import Interval
from vocmine.store.zones import zone, zone_name
from vocmine_api.deps import FilterDep, StoreDep, require
from vocmine_api.routes.themes import NOT_FOUND

router = APIRouter(prefix="/v1", tags=["insights"], dependencies=[Depends(require("read"))])


class ScoreTrends(BaseModel):
    interval: str
    tz: str  # the time zone whose midnights start the buckets
    total: ScorePoint  # every matching conversation, with or without a start time
    points: list[ScorePoint]  # one per bucket with a conversation, oldest first


@router.get("/scores/trends", response_model=ScoreTrends, responses=NOT_FOUND)
def score_trends(
    store: StoreDep,
    filter: FilterDep,
    interval: Interval = "week",
    tz: Annotated[
        str,
        Query(max_length=64, description="IANA time zone whose midnights start the buckets, e.g. Europe/London"),
    ] = "UTC",
) -> ScoreTrends:
    """Per day, week (from Monday) or month: conversations, the sentiment mix of the analysed ones,
    NPS (promoters 9–10 minus detractors 0–6, in points, with the number of answers) and mean CSAT
    (with the number of answers). Volume and survey answers count every matching conversation,
    analysed or not; the sentiment shares only the analysed ones."""
    name = zone_name(zone(tz))  # an unknown zone is a 400 naming it, before the store is asked
    buckets = store.score_totals(filter, interval, tz=name)
    return ScoreTrends(
        interval=interval,
        tz=name or "UTC",
        total=overall(store.score_totals(filter)),
        points=[ScorePoint.of(t) for t in buckets],
    )

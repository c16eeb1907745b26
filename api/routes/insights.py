"""Trends, emerging themes, signal priorities and key drivers (definitions: vocmine/insights/)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from vocmine.insights.drivers import DriverReport
from vocmine.insights.emerging import EmergingTheme, Window
from vocmine.insights.priorities import FORMULA, Priority
from vocmine.insights.trends import TrendPoint
from vocmine.services.insights import drivers, emerging, priority_table, trends
from vocmine.store.query import AnalysisStats, Breakdown, Interval
from vocmine_api.deps import FilterDep, Level, StoreDep, WindowDep, require
from vocmine_api.routes.themes import NOT_FOUND
from vocmine_api.schemas import WindowView

router = APIRouter(prefix="/v1", tags=["insights"], dependencies=[Depends(require("read"))])


class Trends(BaseModel):
    interval: str
    breakdown: str | None
    tz: str = "UTC"  # the time zone whose midnights start the buckets
    points: list[TrendPoint]


class Emerging(BaseModel):
    window: WindowView
    themes: list[EmergingTheme]


class Priorities(BaseModel):
    window: WindowView
    formula: str
    priorities: list[Priority]


def _window(w: Window) -> WindowView:
    return WindowView(baseline_start=w.baseline_start, recent_start=w.recent_start, end=w.end)


@router.get("/stats", response_model=AnalysisStats, responses=NOT_FOUND)
def stats(store: StoreDep, filter: FilterDep) -> AnalysisStats:
    """What analysis found in the conversations matching the filters: counts by sentiment, stage,
    trajectory and signal, the models that made them, and ``unsupported_language``: conversations
    in a language the models do not read, left out of every sentiment and stage figure."""
    return store.analysis_stats(filter)


@router.get("/themes/trends", response_model=Trends, responses=NOT_FOUND)
def theme_trends(
    store: StoreDep,
    filter: FilterDep,
    interval: Interval = "week",
    breakdown: Breakdown | None = None,
    level: Level = "theme",
    theme_id: Annotated[list[str], Query(alias="theme_id", description="only these themes")] = [],  # noqa: B006
    tz: Annotated[
        str,
        Query(max_length=64, description="IANA time zone whose midnights start the buckets, e.g. Europe/London"),
    ] = "UTC",
) -> Trends:
    """Per theme and interval: volume, share of conversations, mean sentiment, negative share. Buckets
    start at midnight in ``tz``; times without a zone in since/until are UTC."""
    points = trends(store, filter, interval, breakdown, level, tz=tz)
    if theme_id:
        points = [p for p in points if p.theme_id in set(theme_id)]
    return Trends(interval=interval, breakdown=breakdown, tz=tz, points=points)


@router.get("/themes/emerging", response_model=Emerging, responses=NOT_FOUND)
def emerging_themes(
    store: StoreDep,
    filter: FilterDep,
    spec: WindowDep,
    level: Level = "theme",
) -> Emerging:
    """Every theme tested (emerging first) with counts, rate ratio, p and BH-adjusted q."""
    window, found = emerging(store, filter, spec, level)
    return Emerging(window=_window(window), themes=found)


@router.get("/signals/priorities", response_model=Priorities, responses=NOT_FOUND)
def signal_priorities(
    store: StoreDep,
    filter: FilterDep,
    spec: WindowDep,
    level: Level = "theme",
) -> Priorities:
    """One score per theme with every term, its weight and the numbers behind it."""
    window, table = priority_table(store, filter, spec, level)
    return Priorities(window=_window(window), formula=FORMULA, priorities=table)


@router.get("/drivers/{metric}", response_model=DriverReport, responses=NOT_FOUND)
def key_drivers(
    metric: Literal["nps", "csat"],
    store: StoreDep,
    filter: FilterDep,
    level: Level = "theme",
    min_present: Annotated[int, Query(ge=5, le=100_000)] = 30,
    resamples: Annotated[int, Query(ge=100, le=5000)] = 1000,
) -> DriverReport:
    """Each theme's impact on NPS or CSAT with 95% bootstrap intervals, or "not enough data"."""
    return drivers(store, metric, filter, level, min_present=min_present, min_absent=min_present, resamples=resamples)

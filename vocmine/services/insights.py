"""Feeds the insight functions (``vocmine/insights/``) from a store: the questions the CLI, the
demo, the notebook and the API ask. Windows end at ``end`` (exclusive; default: the day after the
latest conversation in the filter, so a historical corpus is read as of its own last day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from vocmine.errors import ConfigError
from vocmine.insights.drivers import DriverReport, Metric, key_drivers
from vocmine.insights.emerging import EmergingTheme, Window, emerging_themes
from vocmine.insights.priorities import Priority, priorities
from vocmine.insights.trends import TrendPoint, theme_trends
from vocmine.store.protocol import Store
from vocmine.store.query import Breakdown, ConversationFilter, Interval


@dataclass(frozen=True)
class WindowSpec:
    # The same defaults as the CLI and the API: the last two weeks against the eight before them.
    recent_days: int = 14
    baseline_days: int = 56
    end: date | None = None

    def resolve(self, store: Store, filter: ConversationFilter) -> Window:
        try:
            end = self.end
            if end is None:
                last = store.latest_start(filter)
                end = (last.date() if last else datetime.now(UTC).date()) + timedelta(days=1)
            recent_start = end - timedelta(days=self.recent_days)
            return Window(recent_start - timedelta(days=self.baseline_days), recent_start, end)
        except OverflowError as exc:  # a window reaching before year 1 or past year 9999
            ending = self.end or "after the last conversation"
            raise ConfigError(
                f"the window ({self.recent_days} + {self.baseline_days} days ending {ending}) "
                "falls outside the calendar's years 1–9999",
                hint="pass a later end, or fewer recent / baseline days",
            ) from exc


def trends(
    store: Store,
    filter: ConversationFilter | None = None,
    interval: Interval = "week",
    breakdown: Breakdown | None = None,
) -> list[TrendPoint]:
    f = filter or ConversationFilter()
    return theme_trends(
        store.theme_aggregates(f, interval, breakdown), store.conversation_totals(f, interval, breakdown), interval
    )


def _windowed(filter: ConversationFilter, start: date, end: date) -> ConversationFilter:
    return filter.model_copy(
        update={
            "since": datetime.combine(start, datetime.min.time(), UTC),
            "until": datetime.combine(end, datetime.min.time(), UTC),
        }
    )


def emerging(
    store: Store, filter: ConversationFilter | None = None, spec: WindowSpec | None = None, **test_options: float
) -> tuple[Window, list[EmergingTheme]]:
    f = filter or ConversationFilter()
    window = (spec or WindowSpec()).resolve(store, f)
    scoped = _windowed(f, window.baseline_start, window.end)
    found = emerging_themes(
        store.theme_aggregates(scoped, "day"),
        store.conversation_totals(scoped, "day"),
        window,
        **test_options,  # type: ignore[arg-type]
    )
    return window, found


def drivers(store: Store, metric: Metric, filter: ConversationFilter | None = None, **options: int) -> DriverReport:
    return key_drivers(store.survey_table(filter or ConversationFilter()), metric, **options)


def priority_table(
    store: Store, filter: ConversationFilter | None = None, spec: WindowSpec | None = None
) -> tuple[Window, list[Priority]]:
    f = filter or ConversationFilter()
    window, found = emerging(store, f, spec)
    recent = _windowed(f, window.recent_start, window.end)
    totals = store.conversation_totals(recent)
    # NPS impact is read over the whole window: survey answers are sparse, a week rarely has enough.
    # Only the point estimate enters the score: no bootstrap intervals needed.
    nps = drivers(store, "nps", _windowed(f, window.baseline_start, window.end), resamples=0)
    return window, priorities(
        store.theme_aggregates(recent),
        sum(t.conversations for t in totals),
        found,
        nps if nps.conversations else None,
    )

"""Feeds the insight functions (``vocmine/insights/``) from a store: the questions the CLI, the
demo, the notebook and the API ask. Windows end at ``end`` (exclusive; default: the day after the
latest conversation in the filter, so a historical corpus is read as of its own last day).

Every question is asked at a theme level: ``"theme"`` (the default: the top-level themes an analyst
holds in mind) or ``"subtheme"`` (the fine clusters segments belong to). At the top level the store
counts through the catalog's sub-theme → top-level map, so a conversation counts once per top-level
theme however many of its sub-themes it mentions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from vocmine.analysis.themes.levels import reporting_map, subthemes_of
from vocmine.errors import ConfigError
from vocmine.insights.drivers import DriverReport, Metric, key_drivers
from vocmine.insights.emerging import EmergingTheme, Window, emerging_themes
from vocmine.insights.priorities import Priority, priorities
from vocmine.insights.trends import TrendPoint, theme_trends
from vocmine.schema import ThemeLevel, utc_midnight, utcnow
from vocmine.store.protocol import Store, ThemeStore
from vocmine.store.query import Breakdown, ConversationFilter, Interval
from vocmine.store.zones import zone, zone_name


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


@dataclass(frozen=True)
class LevelView:
    """One read of the theme catalog for one question: what the store counts by at the asked level,
    and which sub-themes each top-level theme covers (so a filter on it reaches their segments)."""

    mapping: dict[str, str] | None
    children: dict[str, list[str]]

    def scope(self, filter: ConversationFilter) -> ConversationFilter:
        """A filter on top-level themes also matches the segments of their sub-themes."""
        if not filter.themes:
            return filter
        wanted = [*filter.themes, *(c for t in filter.themes for c in self.children.get(t, []))]
        return filter.model_copy(update={"themes": list(dict.fromkeys(wanted))})


def level_view(store: ThemeStore, level: ThemeLevel) -> LevelView:
    themes = store.list_themes()
    return LevelView(reporting_map(themes, level), subthemes_of(themes))


def theme_map(store: ThemeStore, level: ThemeLevel) -> dict[str, str] | None:
    """What the store counts by at ``level`` (``levels.reporting_map`` over the store's catalog)."""
    return level_view(store, level).mapping


def with_subthemes(store: ThemeStore, filter: ConversationFilter) -> ConversationFilter:
    """A filter on top-level themes also matches the segments of their sub-themes."""
    return level_view(store, "theme").scope(filter) if filter.themes else filter


def trends(
    store: Store,
    filter: ConversationFilter | None = None,
    interval: Interval = "week",
    breakdown: Breakdown | None = None,
    level: ThemeLevel = "theme",
    tz: str | None = None,
) -> list[TrendPoint]:
    """``tz``: the IANA time zone whose midnights start the buckets (None: UTC)."""
    local = zone(tz)  # an unknown zone is a ConfigError naming it, before the store is asked
    view = level_view(store, level)
    f = view.scope(filter or ConversationFilter())
    return theme_trends(
        store.theme_aggregates(f, interval, breakdown, view.mapping, tz=zone_name(local)),
        store.conversation_totals(f, interval, breakdown, tz=zone_name(local)),
        interval,
        since=f.since,
        until=f.until,
        now=utcnow(),
        tz=local,
    )


def _windowed(filter: ConversationFilter, start: date, end: date) -> ConversationFilter:
    return filter.model_copy(
        update={
            "since": utc_midnight(start),
            "until": utc_midnight(end),
        }
    )


def emerging(
    store: Store,
    filter: ConversationFilter | None = None,
    spec: WindowSpec | None = None,
    level: ThemeLevel = "theme",
    **test_options: float,
) -> tuple[Window, list[EmergingTheme]]:
    view = level_view(store, level)
    return _emerging(store, view.scope(filter or ConversationFilter()), spec, view, **test_options)


def _emerging(
    store: Store, f: ConversationFilter, spec: WindowSpec | None, view: LevelView, **test_options: float
) -> tuple[Window, list[EmergingTheme]]:
    window = (spec or WindowSpec()).resolve(store, f)
    scoped = _windowed(f, window.baseline_start, window.end)
    found = emerging_themes(
        store.theme_aggregates(scoped, "day", theme_map=view.mapping),
        store.conversation_totals(scoped, "day"),
        window,
        **test_options,  # type: ignore[arg-type]
    )
    return window, found


def drivers(
    store: Store,
    metric: Metric,
    filter: ConversationFilter | None = None,
    level: ThemeLevel = "theme",
    **options: int,
) -> DriverReport:
    view = level_view(store, level)
    return key_drivers(store.survey_table(view.scope(filter or ConversationFilter()), view.mapping), metric, **options)


def priority_table(
    store: Store, filter: ConversationFilter | None = None, spec: WindowSpec | None = None, level: ThemeLevel = "theme"
) -> tuple[Window, list[Priority]]:
    view = level_view(store, level)  # one read of the catalog for the whole table
    f = view.scope(filter or ConversationFilter())
    window, found = _emerging(store, f, spec, view)
    recent = _windowed(f, window.recent_start, window.end)
    totals = store.conversation_totals(recent)
    # NPS impact is read over the whole window: survey answers are sparse, a week rarely has enough.
    # Only the point estimate enters the score: no bootstrap intervals needed.
    survey = store.survey_table(_windowed(f, window.baseline_start, window.end), view.mapping)
    nps = key_drivers(survey, "nps", resamples=0)
    return window, priorities(
        store.theme_aggregates(recent, theme_map=view.mapping),
        sum(t.conversations for t in totals),
        found,
        nps if nps.conversations else None,
    )

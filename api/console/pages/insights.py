"""Emerging themes, signal priorities and key drivers: the answers of ``/v1/themes/emerging``,
``/v1/signals/priorities`` and ``/v1/drivers/{metric}`` (the same use cases, the same defaults),
each number put in words beside it, the priority terms as stacked bars and the driver impacts as
error bars."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from vocmine.insights.drivers import DriverReport, Interval, Metric
from vocmine.insights.emerging import EmergingTheme, Window, emerging_themes
from vocmine.insights.priorities import FORMULA, WEIGHTS, Priority
from vocmine.schema import ThemeLevel
from vocmine.services.insights import WindowSpec, drivers, emerging, priority_table
from vocmine.store.protocol import Store
from vocmine_api.console.charts import interval_chart, stacked_bar
from vocmine_api.console.filters import FiltersDep
from vocmine_api.console.people import ConsoleError, Reader
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep

router = APIRouter(include_in_schema=False)

# The bounds of the API's query parameters (api/deps.py and api/routes/insights.py), so a page
# accepts exactly what its /v1 route accepts.
RECENT_DAYS = (1, 366)
BASELINE_DAYS = (1, 1830)
MIN_PRESENT = (5, 100_000)
RESAMPLES = (100, 5000)
DEFAULTS = WindowSpec()

# The rule emerging.py applies (its keyword defaults, which the API keeps), read from there so the
# explanation on the page cannot drift from the test.
_RULE = inspect.signature(emerging_themes).parameters
MIN_COUNT: int = _RULE["min_count"].default
ALPHA: float = _RULE["alpha"].default
MIN_RATIO: float = _RULE["min_ratio"].default

TERMS = ("negativity", "growth", "severity", "nps_impact")
TERM_NAMES = {"negativity": "Negativity", "growth": "Growth", "severity": "Severity", "nps_impact": "NPS impact"}
METRICS: dict[Metric, str] = {"nps": "NPS", "csat": "CSAT"}


def _whole(text: str, default: int, bounds: tuple[int, int], field: str) -> int:
    """A whole-number control's value (empty: the default); out of bounds is a 400 page naming the field."""
    if not text.strip():
        return default
    low, high = bounds
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConsoleError(
            400,
            f"“{field}” must be a whole number from {low:,} to {high:,}, not {text.strip()!r}",
            f"enter a number from {low:,} to {high:,} in “{field}”, or leave it empty for {default:,}",
        )
    return value


def _level(text: str) -> ThemeLevel:
    if text in ("", "theme"):
        return "theme"
    if text == "subtheme":
        return "subtheme"
    raise ConsoleError(400, f"“Level” must be theme or subtheme, not {text!r}", "choose Themes or Sub-themes")


def _window_spec(recent_days: str, baseline_days: str, end: str) -> WindowSpec:
    recent = _whole(recent_days, DEFAULTS.recent_days, RECENT_DAYS, "Recent days")
    baseline = _whole(baseline_days, DEFAULTS.baseline_days, BASELINE_DAYS, "Baseline days")
    ends: date | None = None
    if end.strip():
        try:
            ends = date.fromisoformat(end.strip())
        except ValueError as exc:
            raise ConsoleError(
                400,
                f"“Window ends” must be a date like 2026-05-31, not {end.strip()!r}",
                "pick a date, or leave it empty to end the day after the last conversation",
            ) from exc
    return WindowSpec(recent, baseline, ends)


def _names(store: Store) -> dict[str, str]:
    return {t.id: t.display_name for t in store.list_themes()}


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def _span(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def window_words(window: Window) -> str:
    """E.g. "the last 14 days, 2026-05-18 to 2026-05-31, against the 56 days before (2026-03-23 to 2026-05-17)"."""
    recent = (window.end - window.recent_start).days
    baseline = (window.recent_start - window.baseline_start).days
    last = window.end - timedelta(days=1)
    before = window.recent_start - timedelta(days=1)
    return (
        f"the last {_days(recent)}, {_span(window.recent_start, last)}, against the {_days(baseline)} before "
        f"({_span(window.baseline_start, before)})"
    )


def share(value: float) -> str:
    """A share as people write it: 13%, 3.1%, 0.42%."""
    pct = 100 * value
    if pct == 0 or pct >= 10:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%" if pct >= 1 else f"{pct:.2g}%"


def q_text(q: float) -> str:
    """q with two significant digits: 0.16, 0.019, 0.0042, 8e-13."""
    if q >= 0.1:
        return f"{q:.2f}"
    return f"{q:.2g}" if q >= 0.001 else f"{q:.0e}"


def _chance(q: float) -> str:
    """How often chance alone gives a rise this large, said from q."""
    for bound, odds in ((0.001, "1,000"), (0.01, "100"), (0.05, "20")):
        if q < bound:
            return f"a rise this large would happen by chance less than 1 time in {odds}"
    if q < 0.5:
        return f"a rise this large would happen by chance about 1 time in {round(1 / q)}"
    return "a rise this large could easily be chance"


def emerging_sentence(e: EmergingTheme, recent_days: int) -> str:
    """One theme's test in plain words: its counts, how many times as often, how likely by chance,
    and, when it is not counted as emerging, which part of the rule it misses."""
    said = (
        f"mentioned in {e.recent_count:,} of {e.recent_conversations:,} conversations in the last "
        f"{_days(recent_days)} ({share(e.recent_share)}) against {e.baseline_count:,} of "
        f"{e.baseline_conversations:,} before ({share(e.baseline_share)})"
    )
    ratio = e.rate_ratio
    if e.recent_share <= e.baseline_share:
        how = "no more often than before" if ratio > 0.95 else f"less often than before ({ratio:.1f} times the rate)"
        return f"{said}: {how}, so no rise to test (q = {q_text(e.q_value)})"
    how = f"{ratio:.1f} times as often" if ratio >= 1.05 else "about as often"
    sentence = f"{said}: {how}; {_chance(e.q_value)} (q = {q_text(e.q_value)})"
    if e.new:
        sentence += "; not mentioned at all before"
    if not e.emerging:
        missing = []
        if e.recent_count < MIN_COUNT:
            missing.append(f"fewer than {MIN_COUNT} mentions in the recent window")
        if e.q_value >= ALPHA:
            missing.append(f"q is not below {ALPHA:g}")
        if ratio < MIN_RATIO:
            missing.append(f"the rate ratio is below {MIN_RATIO:g}")
        sentence += "; not emerging: " + ", ".join(missing)
    return sentence


@router.get("/emerging")
def emerging_page(
    request: Request,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    level: str = "theme",
    recent_days: str = "",
    baseline_days: str = "",
    end: str = "",
) -> Response:
    chosen = _level(level)
    spec = _window_spec(recent_days, baseline_days, end)
    window, found = emerging(store, filters.filter, spec, chosen)
    names = _names(store)
    rows = [(e, names.get(e.theme_id, e.theme_id), emerging_sentence(e, spec.recent_days)) for e in found]
    return page(
        request,
        person,
        "emerging.html",
        "Emerging themes",
        filters=filters,
        window=window,
        window_words=window_words(window),
        rows=rows,
        emerging_count=sum(1 for e in found if e.emerging),
        rule={"min_count": MIN_COUNT, "alpha": ALPHA, "min_ratio": MIN_RATIO},
        share=share,
        q_text=q_text,
        level=chosen,
        controls={"recent_days": recent_days, "baseline_days": baseline_days, "end": end},
    )


@dataclass(frozen=True)
class PriorityRow:
    priority: Priority
    name: str
    contributions: dict[str, float | None]  # points each weighted term adds to the score
    bar: Markup


def priority_rows(table: list[Priority], names: dict[str, str]) -> list[PriorityRow]:
    top = max((p.score for p in table), default=0.0) or 1.0
    rows = []
    for p in table:
        reach = p.terms.get("reach") or 0.0
        points: dict[str, float | None] = {}
        for term in TERMS:
            value, weight = p.terms.get(term), p.weights.get(term)
            points[term] = None if value is None or weight is None else 100 * reach * weight * value
        name = names.get(p.theme_id, p.theme_id)
        label = f"{name}: score {p.score:.1f} = " + ", ".join(
            f"{TERM_NAMES[t]} {points[t]:.1f}" if points[t] is not None else f"{TERM_NAMES[t]} n/a" for t in TERMS
        )
        # Each bar's length is its score against the top score, so bars compare across themes.
        width = max(6, round(260 * p.score / top))
        bar = stacked_bar([(t, points[t] or 0.0) for t in TERMS], label=label, width=width)
        rows.append(PriorityRow(p, name, points, bar))
    return rows


@router.get("/priorities")
def priorities_page(
    request: Request,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    level: str = "theme",
    recent_days: str = "",
    baseline_days: str = "",
    end: str = "",
) -> Response:
    chosen = _level(level)
    spec = _window_spec(recent_days, baseline_days, end)
    window, table = priority_table(store, filters.filter, spec, chosen)
    return page(
        request,
        person,
        "priorities.html",
        "Priorities",
        filters=filters,
        window=window,
        window_words=window_words(window),
        formula=FORMULA,
        weights=WEIGHTS,
        terms=TERMS,
        term_names=TERM_NAMES,
        rows=priority_rows(table, _names(store)),
        share=share,
        level=chosen,
        controls={"recent_days": recent_days, "baseline_days": baseline_days, "end": end},
    )


def _bounds(i: Interval | None) -> str:
    if i is None or i.low is None or i.high is None:
        return "–"
    return f"{i.low:+.1f} to {i.high:+.1f}"


@dataclass(frozen=True)
class DriverSection:
    metric: Metric
    title: str
    report: DriverReport
    names: dict[str, str]
    chart: Markup


def _section(metric: Metric, report: DriverReport, names: dict[str, str]) -> DriverSection:
    title = METRICS[metric]
    chart = interval_chart(
        [
            (
                names.get(d.theme_id, d.theme_id),
                d.removal_impact.value if d.removal_impact else None,
                d.removal_impact.low if d.removal_impact else None,
                d.removal_impact.high if d.removal_impact else None,
            )
            for d in report.drivers
        ],
        label=f"Impact of each theme on {title}, with 95% intervals (points)",
        unit=" pts",
    )
    return DriverSection(metric, title, report, names, chart)


@router.get("/drivers")
def drivers_page(
    request: Request,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    level: str = "theme",
    min_present: str = "",
    resamples: str = "",
) -> Response:
    chosen = _level(level)
    least = _whole(min_present, 30, MIN_PRESENT, "At least")
    draws = _whole(resamples, 1000, RESAMPLES, "Resamples")
    names = _names(store)
    sections = [
        _section(
            m, drivers(store, m, filters.filter, chosen, min_present=least, min_absent=least, resamples=draws), names
        )
        for m in METRICS
    ]
    return page(
        request,
        person,
        "drivers.html",
        "Drivers of NPS and CSAT",
        filters=filters,
        sections=sections,
        min_present=least,
        resamples=draws,
        bounds=_bounds,
        level=chosen,
        controls={"min_present": min_present, "resamples": resamples},
    )

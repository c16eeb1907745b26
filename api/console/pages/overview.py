"""The overview at ``/``: volume, sentiment, NPS and CSAT for the filters and a period, each against
the period of the same length before it, charted over time in the person's time zone; the top
emerging themes and the top priorities.

The figures are ``/v1/scores/trends``' (``Store.score_totals`` read through ``ScorePoint``), the
lists ``/v1/themes/emerging``' and ``/v1/signals/priorities``' (the same use cases, their default
windows), so the page and the API always agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from vocmine.insights.scores import ScorePoint, overall
from vocmine.services.insights import emerging, priority_table
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, Interval
from vocmine.store.zones import zone, zone_name
from vocmine_api.console.charts import line_chart
from vocmine_api.console.filters import FiltersDep
from vocmine_api.console.people import ConsoleError, Reader
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep

router = APIRouter(include_in_schema=False)

PERIODS = (30, 90, 180, 365)  # days the period select offers
DEFAULT_PERIOD = 90
DAILY_UP_TO = 31  # days: a period this short is charted per day, a longer one per week
TOP = 5


@dataclass(frozen=True)
class Period:
    """The days shown (``start`` inclusive, ``end`` exclusive, midnights in the person's zone) and
    the period of the same length just before them."""

    start: datetime
    end: datetime
    explicit: bool  # From/Until in the filter bar set it, rather than the period select

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def days(self) -> int:
        return max(1, round(self.length.total_seconds() / 86400))

    @property
    def interval(self) -> Interval:
        return "day" if self.days <= DAILY_UP_TO else "week"

    @property
    def previous(self) -> tuple[datetime, datetime]:
        return self.start - self.length, self.start

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A moment from the bar in the person's zone (one written without a zone is UTC, as the API reads it)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)


def _days_chosen(text: str) -> int:
    if not text.strip():
        return DEFAULT_PERIOD
    if text.strip() not in {str(p) for p in PERIODS}:
        choices = ", ".join(str(p) for p in PERIODS)
        raise ConsoleError(400, f"“Period” must be one of {choices} days, not {text.strip()!r}", "choose a period")
    return int(text.strip())


def resolve_period(store: Store, f: ConversationFilter, days: int, tz: ZoneInfo) -> Period:
    """From/Until when the bar sets them (one alone: the other side from ``days``); otherwise the
    ``days`` ending at the day after the latest conversation matching the filters, as the insights'
    windows end (today when none matches)."""
    since = _local(f.since, tz) if f.since is not None else None
    until = _local(f.until, tz) if f.until is not None else None
    if since is not None and until is not None:
        if until <= since:
            raise ConsoleError(400, "“Until” must be after “From”", "choose a later Until, or clear one of them")
        return Period(since, until, explicit=True)
    if until is not None:
        return Period(until - timedelta(days=days), until, explicit=True)
    latest = store.latest_start(f)
    last_day = latest.astimezone(tz).date() if latest else datetime.now(tz).date()
    end = _midnight(last_day + timedelta(days=1), tz)
    if since is not None:
        return Period(since, max(end, since + timedelta(days=1)), explicit=True)
    return Period(_midnight(last_day + timedelta(days=1 - days), tz), end, explicit=False)


def _bucket_starts(period: Period) -> list[date]:
    """Every bucket the period touches, empty ones too (a week starts on Monday)."""
    first = period.start.date()
    if period.interval == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=1 if period.interval == "day" else 7)
    out, day = [], first
    while day <= period.last_day:
        out.append(day)
        day += step
    return out


@dataclass(frozen=True)
class Headline:
    """One headline figure: its value now and in the previous period, as text, and how it changed."""

    name: str
    value: str
    detail: str  # what it is made of (responses, of how many)
    change: str | None  # None: nothing to compare with
    tone: str  # better | worse | same | "" (no judgement)


def _change(now: float | None, before: float | None, unit: str, digits: int, good: int) -> tuple[str | None, str]:
    """The change as text and its tone; ``good`` is +1 when a rise is good, −1 when it is bad."""
    if now is None or before is None:
        return None, ""
    delta = now - before
    if round(delta, digits) == 0:
        return f"±{0:.{digits}f}{unit}", "same"  # not "-0": a change too small to show is no change
    return f"{delta:+,.{digits}f}{unit}", "better" if delta * good > 0 else "worse"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def headlines(now: ScorePoint, before: ScorePoint) -> list[Headline]:
    if before.conversations:
        volume_change: tuple[str | None, str] = (
            f"{100 * (now.conversations / before.conversations - 1):+.0f}% (from {before.conversations:,})",
            "",
        )
    else:
        volume_change = (None, "")

    def share(value: float | None, prior: float | None, good: int) -> tuple[str | None, str]:
        return _change(None if value is None else 100 * value, None if prior is None else 100 * prior, " pts", 1, good)

    analysed = f"of {now.analysed:,} analysed conversations" if now.analysed else "no analysed conversations"
    return [
        Headline("Conversations", f"{now.conversations:,}", "in the period", *volume_change),
        Headline("Negative", _pct(now.negative_share), analysed, *share(now.negative_share, before.negative_share, -1)),
        Headline("Positive", _pct(now.positive_share), analysed, *share(now.positive_share, before.positive_share, 1)),
        Headline(
            "NPS",
            "–" if now.nps is None else f"{now.nps:+.0f}",
            _responses(now.nps_responses),
            *_change(now.nps, before.nps, " pts", 0, 1),
        ),
        Headline(
            "CSAT",
            "–" if now.csat is None else f"{now.csat:.2f}",
            _responses(now.csat_responses),
            *_change(now.csat, before.csat, "", 2, 1),
        ),
    ]


def _responses(n: int) -> str:
    return "no responses" if n == 0 else f"{n:,} response{'' if n == 1 else 's'}"


def charts(points: Sequence[ScorePoint], period: Period) -> dict[str, Markup]:
    """Volume, sentiment mix, NPS and CSAT per bucket; a bucket without conversations is 0 in the
    volume and a gap in every rate."""
    starts = _bucket_starts(period)
    by_bucket = {p.bucket: p for p in points}
    cells = [by_bucket.get(day.isoformat()) for day in starts]
    labels = [day.strftime("%d %b") for day in starts]
    per = "day" if period.interval == "day" else "week (from Monday)"

    def series(read: Callable[[ScorePoint], float | None]) -> list[float | None]:
        return [None if p is None else read(p) for p in cells]

    def percent(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 1)

    return {
        "volume": line_chart(labels, [("Conversations", [p.conversations if p else 0 for p in cells])],
                             label=f"Conversations per {per}"),
        "sentiment": line_chart(
            labels,
            [
                ("Negative %", series(lambda p: percent(p.negative_share))),
                ("Neutral %", series(lambda p: percent(p.neutral_share))),
                ("Positive %", series(lambda p: percent(p.positive_share))),
            ],
            label=f"Sentiment mix of analysed conversations per {per}, in %",
        ),
        "nps": line_chart(labels, [("NPS", series(lambda p: p.nps))], label=f"NPS per {per}"),
        "csat": line_chart(labels, [("CSAT", series(lambda p: p.csat))], label=f"Mean CSAT per {per}",
                           zero_based=False),
    }  # fmt: skip


@router.get("/")
def overview(request: Request, person: Reader, store: StoreDep, filters: FiltersDep, period: str = "") -> Response:
    days = _days_chosen(period)
    tz = person.tz
    f = filters.filter
    try:
        chosen = resolve_period(store, f, days, tz)
        before_start, before_end = chosen.previous
    except OverflowError as exc:  # a period, or the one before it, reaching before year 1
        raise ConsoleError(
            400, "the period and the one before it must fall within the years 1–9999", "choose a later From"
        ) from exc
    now_filter = f.model_copy(update={"since": chosen.start, "until": chosen.end})
    before_filter = f.model_copy(update={"since": before_start, "until": before_end})
    now, before = overall(store.score_totals(now_filter)), overall(store.score_totals(before_filter))
    points = [ScorePoint.of(t) for t in store.score_totals(now_filter, chosen.interval, tz=zone_name(zone(tz.key)))]

    names = {t.id: t.display_name for t in store.list_themes()}
    window, tested = emerging(store, f)
    rising = [e for e in tested if e.emerging][:TOP]
    priority_window, table = priority_table(store, f)
    return page(
        request,
        person,
        "overview.html",
        "Overview",
        filters=filters,
        days=days,
        periods=PERIODS,
        period=chosen,
        before_start=before_start,
        before_last_day=(before_end - timedelta(microseconds=1)).date(),
        now=now,
        before=before,
        headlines=headlines(now, before),
        charts=charts(points, chosen),
        names=names,
        window=window,
        window_last_day=window.end - timedelta(days=1),
        rising=rising,
        tested=len(tested),
        priority_window=priority_window,
        priority_last_day=priority_window.end - timedelta(days=1),
        priorities=table[:TOP],
    )

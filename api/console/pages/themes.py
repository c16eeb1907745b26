"""Themes: the hierarchy with each theme's volume, share, sentiment mix and weekly trend; a theme's
page with its trend (optionally broken down), sub-themes or parent, and representative verbatims;
rename and merge for admins.

Both pages read the store's catalog on every request, so a name given here (or by the API or the
CLI) shows at once on every page. Every figure comes from one aggregate call per kind of data over
all themes (counts, weekly trend, totals), never one call per theme: the list stays fast at 1M
conversations with 40 themes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from vocmine.analysis.themes.levels import at_level, level_map, reporting_map
from vocmine.errors import NotFoundError, VocmineError
from vocmine.insights.trends import TrendPoint, theme_trends
from vocmine.schema import Theme, utcnow
from vocmine.services.insights import trends
from vocmine.store.protocol import Store
from vocmine.store.query import Breakdown, ConversationFilter, SearchQuery, ThemeAggregate
from vocmine.store.zones import zone, zone_name
from vocmine_api.console.charts import line_chart, sparkline, stacked_bar
from vocmine_api.console.filters import Filters, FiltersDep
from vocmine_api.console.people import ConsoleError, Person, Reader, writer
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep

router = APIRouter(include_in_schema=False)
Admin = Annotated[Person, Depends(writer("admin"))]

# the breakdowns a trend can be drawn by (the store's Breakdown), as the page names them
BREAKDOWNS: dict[str, str] = {
    "channel": "channel", "stage": "journey stage", "brand": "brand", "product": "product", "agent": "agent",
    "team": "team",
}  # fmt: skip
TOP_GROUPS = 6  # lines on a broken-down trend chart
VERBATIMS = 5
VERBATIM_CONVERSATIONS = 25  # the newest conversations of the theme that verbatims are taken from (as the API)
DONE = {
    "renamed": "Renamed: the new name shows on every page of the console and in the API.",
    "merged": "Merged: the other theme's conversations now count in this one, and its id leads here.",
}
NO_THEME_HINT = (
    "theme ids (like g3 or t12) are in the links of the Themes page (/themes), in GET /v1/themes "
    "and in `vocmine themes list`"
)


@dataclass(frozen=True)
class Catalog:
    """One read of the store's theme catalog."""

    themes: dict[str, Theme]  # every theme, active or not, by id
    top: list[Theme]  # the active top-level themes (every active theme of a one-level catalog)
    mapping: dict[str, str] | None  # segment theme id → top-level theme id (None: one level)
    children: dict[str, list[Theme]]  # top-level id → its active sub-themes, merges followed

    def parent_of(self, theme: Theme) -> Theme | None:
        if theme.level != "subtheme" or self.mapping is None or theme.id not in self.mapping:
            return None
        return self.themes.get(self.mapping[theme.id])

    def same_level(self, theme: Theme) -> list[Theme]:
        """The active themes a theme can absorb: its level's, itself left out."""
        pool = self.top if theme.level == "theme" or self.mapping is None else self._subthemes()
        return sorted((t for t in pool if t.id != theme.id), key=lambda t: t.display_name.lower())

    def _subthemes(self) -> list[Theme]:
        return [t for t in self.themes.values() if t.level == "subtheme" and t.status == "active"]


def read_catalog(store: Store) -> Catalog:
    themes = store.list_themes()
    mapping = reporting_map(themes, "theme")
    top = [t for t in at_level(themes, "theme") if t.status == "active"]
    by_id = {t.id: t for t in themes}
    children: dict[str, list[Theme]] = {}
    if mapping is not None:
        # level_map follows merges of top-level themes, so a merged theme's sub-themes show under its target
        for sub_id, top_id in level_map(themes).items():
            if by_id[sub_id].status == "active":
                children.setdefault(top_id, []).append(by_id[sub_id])
    return Catalog(by_id, top, mapping, children)


@dataclass
class Row:
    """One theme's figures over the filtered conversations."""

    theme: Theme
    conversations: int
    share: float | None
    segments: int
    mean_sentiment: float | None
    negative_share: float | None
    mix: Markup
    trend: Markup = field(default_factory=Markup)
    subthemes: list[Row] = field(default_factory=list)


def _row(theme: Theme, a: ThemeAggregate | None, total: int) -> Row:
    conversations = a.conversations if a else 0
    segments = a.segments if a else 0
    negative = a.negative_segments if a else 0
    return Row(
        theme=theme,
        conversations=conversations,
        share=conversations / total if total else None,
        segments=segments,
        # the same figures as GET /v1/themes: mean segment score and the share of segments labelled negative
        mean_sentiment=a.sentiment_sum / segments if a and segments else None,
        negative_share=negative / segments if segments else None,
        mix=sentiment_mix(theme.display_name, negative, segments),
    )


def sentiment_mix(name: str, negative: int, segments: int) -> Markup:
    """The store counts a theme's negative segments, not its neutral and positive ones apart: the bar
    shows negative against the rest, and says so."""
    label = (
        f"{name}: {negative} of {segments} segments negative ({negative / segments:.0%})"
        if segments
        else f"{name}: no segments"
    )
    return stacked_bar([("negative", negative), ("not negative", segments - negative)], label=label, width=120)


def _total(store: Store, filter: ConversationFilter) -> int:
    return sum(t.conversations for t in store.conversation_totals(filter))


def _weekly(points: list[TrendPoint]) -> dict[tuple[str, str | None], dict[str, int]]:
    """(theme id, group) → bucket → conversations."""
    out: dict[tuple[str, str | None], dict[str, int]] = {}
    for p in points:
        if p.bucket is not None:
            out.setdefault((p.theme_id, p.group), {})[p.bucket] = p.conversations
    return out


@router.get("/themes")
def themes_page(request: Request, person: Reader, store: StoreDep, filters: FiltersDep) -> Response:
    catalog = read_catalog(store)
    f = filters.filter
    top_counts = {a.theme_id: a for a in store.theme_aggregates(f, theme_map=catalog.mapping)}
    sub_counts = {a.theme_id: a for a in store.theme_aggregates(f)} if catalog.children else {}
    total = _total(store, f)
    points = trends(store, f, "week", level="theme", tz=person.tz.key)  # once, for every theme
    buckets = sorted({p.bucket for p in points if p.bucket})
    weekly = _weekly(points)
    rows = []
    for theme in catalog.top:
        row = _row(theme, top_counts.get(theme.id), total)
        values = [weekly.get((theme.id, None), {}).get(b, 0) for b in buckets]
        label = (
            f"{theme.display_name}: conversations a week from {buckets[0]} to {buckets[-1]}: "
            f"{', '.join(map(str, values))}"
            if buckets
            else f"{theme.display_name}: no weeks with conversations"
        )
        row.trend = sparkline([float(v) for v in values], label=label)
        row.subthemes = sorted(
            (_row(sub, sub_counts.get(sub.id), total) for sub in catalog.children.get(theme.id, [])),
            key=lambda r: (-r.conversations, r.theme.id),
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r.conversations, r.theme.id))
    return page(
        request,
        person,
        "themes.html",
        "Themes",
        filters=filters,
        rows=rows,
        total=total,
        weeks=len(buckets),
        two_levels=catalog.mapping is not None,
        version=store.themes_version(),
    )


def _theme_trend(
    store: Store, scope: ConversationFilter, only: dict[str, str], by: Breakdown | None, tz: ZoneInfo
) -> list[TrendPoint]:
    """``vocmine.services.insights.trends`` for one theme: the same store calls and the same
    ``theme_trends``, with the store asked about this theme's ids only. Asking about every theme and
    keeping one (as ``trends`` then a filter would) makes a breakdown by agent count every theme ×
    week × agent: seconds at 100k conversations instead of tens of milliseconds."""
    name = zone_name(zone(tz.key))
    return theme_trends(
        store.theme_aggregates(scope, "week", by, only, tz=name),
        store.conversation_totals(scope, "week", by, tz=name),
        "week",
        since=scope.since,
        until=scope.until,
        now=utcnow(),
        tz=zone(tz.key),
    )


def _breakdown(value: str) -> Breakdown | None:
    if not value:
        return None
    if value not in BREAKDOWNS:
        raise ConsoleError(400, f"there is no breakdown {value!r}", f"choose one of: none, {', '.join(BREAKDOWNS)}")
    return cast(Breakdown, value)


@router.get("/themes/{theme_id}")
def theme_page(
    request: Request,
    theme_id: str,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    breakdown: str = "",
    done: str = "",
) -> Response:
    return _theme_page(request, person, store, filters, theme_id, breakdown=breakdown, done=DONE.get(done))


def highlight(text: str, phrases: Sequence[str]) -> Markup:
    """``text`` HTML-escaped, with each of ``phrases`` (whole words, any case) inside ``<mark>``."""
    wanted = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    if not wanted:
        return escape(text)
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, wanted)) + r")(?!\w)", re.IGNORECASE)
    parts: list[Markup] = []
    last = 0
    for found in pattern.finditer(text):
        parts += [escape(text[last : found.start()]), Markup("<mark>%s</mark>") % found.group(0)]
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class VerbatimView:
    conversation_id: str
    text: Markup
    sentiment: str
    started_at: datetime | None


def _verbatims(store: Store, scope: ConversationFilter, phrases: Sequence[str]) -> list[VerbatimView]:
    """Up to five distinct sentences of the theme from its newest conversations (the rule of GET
    /v1/themes/{id}), within the filters."""
    hits = store.search(SearchQuery(filter=scope, limit=VERBATIM_CONVERSATIONS)).hits
    analyses = store.get_analyses([h.conversation.id for h in hits])
    seen: set[str] = set()
    out: list[VerbatimView] = []
    for hit in hits:
        analysis = analyses.get(hit.conversation.id)
        for segment in analysis.segments if analysis else []:
            if segment.theme_id in scope.themes and segment.text not in seen and len(out) < VERBATIMS:
                seen.add(segment.text)
                text = highlight(segment.text, phrases)
                out.append(VerbatimView(hit.conversation.id, text, segment.sentiment, hit.conversation.started_at))
    return out


def _theme_page(
    request: Request,
    person: Person,
    store: Store,
    filters: Filters,
    theme_id: str,
    *,
    breakdown: str = "",
    done: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    by = _breakdown(breakdown)
    catalog = read_catalog(store)
    theme = catalog.themes.get(theme_id)
    if theme is None:
        raise ConsoleError(404, f"there is no theme {theme_id!r}", NO_THEME_HINT)
    top_level = theme.level == "theme" and catalog.mapping is not None
    subthemes = catalog.children.get(theme.id, []) if top_level else []
    base = filters.filter.model_copy(update={"themes": []})  # this page is about one theme, whatever the bar says
    scope = base.model_copy(update={"themes": [theme.id, *(s.id for s in subthemes)]})

    # The store is asked about this theme's segment ids only (each mapped to the theme, as the
    # catalog's map does at the top level): other themes of the same conversations are not counted.
    only = {i: theme.id for i in scope.themes}
    counts = store.theme_aggregates(scope, theme_map=only)
    total = _total(store, base)
    row = _row(theme, next((a for a in counts if a.theme_id == theme.id), None), total)
    if subthemes:
        sub_counts = {a.theme_id: a for a in store.theme_aggregates(scope, theme_map={s.id: s.id for s in subthemes})}
        row.subthemes = sorted(
            (_row(s, sub_counts.get(s.id), total) for s in subthemes), key=lambda r: (-r.conversations, r.theme.id)
        )
    points = _theme_trend(store, scope, only, by, person.tz)
    trend = _trend(theme, points, by)

    phrases = [*theme.keywords, *(k for s in subthemes for k in s.keywords)]
    admin = person.can("admin") and theme.status == "active"
    return page(
        request,
        person,
        "theme.html",
        theme.display_name,
        status_code=status_code,
        filters=filters,
        theme=theme,
        row=row,
        parent=catalog.parent_of(theme),
        merged_into=catalog.themes.get(theme.merged_into) if theme.merged_into else None,
        top_level=top_level,
        trend=trend,
        breakdown=by or "",
        breakdowns=BREAKDOWNS,
        top_groups=TOP_GROUPS,
        verbatims=_verbatims(store, scope, phrases),
        keywords=theme.keywords,
        admin=admin,
        candidates=catalog.same_level(theme) if admin else [],
        done=done,
        problem=problem,
    )


@dataclass(frozen=True)
class Trend:
    chart: Markup
    names: list[str]  # the lines drawn
    rows: list[tuple[str, list[int]]]  # week (``*``: not complete in the period), conversations per line
    groups: int  # groups with conversations (more than drawn when a breakdown has many)


def _trend(theme: Theme, points: list[TrendPoint], by: Breakdown | None) -> Trend:
    """The theme's weekly conversations: one line, or one per group of the breakdown (the largest
    ``TOP_GROUPS``)."""
    mine = [p for p in points if p.theme_id == theme.id and p.bucket]
    buckets = sorted({p.bucket for p in mine if p.bucket})
    partial = {p.bucket for p in mine if p.partial}
    weekly = _weekly(mine)
    volume = {g: sum(counts.values()) for (_, g), counts in weekly.items()}
    groups = sorted((g for g, n in volume.items() if n > 0), key=lambda g: (-volume[g], g is None, g or ""))
    shown: list[str | None] = groups[:TOP_GROUPS] if by else [None]
    names = [theme.display_name if by is None else (g or "(not set)") for g in shown]
    values = [[weekly.get((theme.id, g), {}).get(b, 0) for b in buckets] for g in shown]
    labels = [b + ("*" if b in partial else "") for b in buckets]
    what = f" by {BREAKDOWNS[by]}" if by else ""
    chart = line_chart(
        labels,
        [(name, [float(v) for v in line]) for name, line in zip(names, values, strict=True)],
        label=f"Conversations a week mentioning {theme.display_name}{what}",
    )
    rows = [(label, [line[i] for line in values]) for i, label in enumerate(labels)]
    return Trend(chart, names, rows, len(groups))


@router.post("/themes/{theme_id}/rename")
def rename_theme(
    request: Request,
    theme_id: str,
    person: Admin,
    store: StoreDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not name.strip():
        return _problem(request, person, store, theme_id, "The new name was empty: type the name to give the theme.")
    try:
        store.rename_theme(theme_id, name, actor=person.actor)
    except NotFoundError as exc:
        raise ConsoleError(404, f"there is no theme {theme_id!r}", NO_THEME_HINT) from exc
    except VocmineError as exc:
        return _problem(request, person, store, theme_id, f"{exc.message}: {exc.hint}" if exc.hint else exc.message)
    return RedirectResponse(f"/themes/{quote(theme_id, safe='')}?done=renamed", status_code=303)


@router.post("/themes/{theme_id}/merge")
def merge_theme(
    request: Request,
    theme_id: str,
    person: Admin,
    store: StoreDep,
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    catalog = read_catalog(store)
    target = catalog.themes.get(theme_id)
    if target is None:
        raise ConsoleError(404, f"there is no theme {theme_id!r}", NO_THEME_HINT)
    source = source.strip()
    other = catalog.themes.get(source)
    problem = None
    if not source:
        problem = "No theme was chosen: choose the theme to merge into this one."
    elif source == theme_id:
        problem = "A theme cannot be merged into itself: choose another theme."
    elif other is None:
        problem = f"There is no theme {source!r}: choose one from the list."
    elif other not in catalog.same_level(target):
        problem = (
            f"{other.display_name} ({other.id}) is not an active theme of the same level as this one: "
            "choose one from the list."
        )
    if problem is None:
        try:
            store.merge_themes([source], theme_id, actor=person.actor)
        except VocmineError as exc:
            problem = f"{exc.message}: {exc.hint}" if exc.hint else exc.message
    if problem is not None:
        return _problem(request, person, store, theme_id, problem)
    return RedirectResponse(f"/themes/{quote(theme_id, safe='')}?done=merged", status_code=303)


def _problem(request: Request, person: Person, store: Store, theme_id: str, problem: str) -> Response:
    """The theme's page again, saying what to change in the form."""
    return _theme_page(
        request, person, store, Filters(ConversationFilter()), theme_id, problem=problem, status_code=400
    )

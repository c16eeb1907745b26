"""The search page: what customers said, found by words (full text), by meaning (semantic) or both
(hybrid), with every filter of the API, facet counts to narrow by, highlighted passages, cursor
paging, and the same results as a CSV download.

It asks the store the same questions as ``GET /v1/search`` (``store.search``, ``semantic_search``,
``hybrid_search``, ``facet_counts``), so the page and the API always agree."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup, escape

from vocmine.analysis.signals.heads import SIGNALS
from vocmine.errors import VocmineError
from vocmine.schema import Conversation, ConversationAnalysis, Theme
from vocmine.services.search import Mode, search_by_meaning
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, SearchQuery
from vocmine_api.console.filters import SENTIMENTS, STAGES, Filters, FiltersDep
from vocmine_api.console.people import ConsoleError, Reader
from vocmine_api.console.render import page
from vocmine_api.deps import SettingsDep, StoreDep

router = APIRouter(include_in_schema=False)

MODES: dict[str, str] = {"text": "Words (full text)", "semantic": "Meaning (semantic)", "hybrid": "Both (hybrid)"}
PAGE_SIZE = 20
CSV_LIMIT = 10_000  # rows in one download (stated beside its link)
CSV_BATCH = 500  # conversations read from the store at a time while the download streams
CSV_COLUMNS = [
    "id", "started_at", "channel", "source", "brand", "product", "team", "agent",
    "sentiment", "stage", "flags", "themes", "first_customer_text",
]  # fmt: skip
TRAJECTORIES = ("improved", "worsened", "steady")
# facet group (as the store names it) → the filter parameter a click sets
FACETS = {"channel": "channel", "sentiment": "sentiment", "stage": "stage", "signal": "flag"}
FACET_TITLES = {"channel": "Channel", "sentiment": "Sentiment", "stage": "Journey stage", "signal": "Flag"}
# the filters the shared bar shows itself; the search page draws the others (see search.html)
SHARED_BAR = ("since", "until", "channel", "brand", "product", "team")

Embed = Callable[[Sequence[str]], Any]
Found = tuple[Conversation, float | None, list[str]]  # a hit: conversation, score, matched passages


def marked(passage: str) -> Markup:
    """A matched passage as HTML: every character of the text escaped, except the ``<mark>`` tags the
    store put around matched words; those are kept balanced, so a text that itself holds such a tag
    cannot leave one open or close one it did not open."""
    out: list[str] = []
    inside = False
    for piece in re.split(r"(</?mark>)", passage):
        if piece == "<mark>":
            if not inside:
                out.append("<mark>")
            inside = True
        elif piece == "</mark>":
            if inside:
                out.append("</mark>")
            inside = False
        else:
            out.append(str(escape(piece)))
    if inside:
        out.append("</mark>")
    return Markup("".join(out))


@dataclass
class Results:
    found: Sequence[Found]
    total: int
    relation: str  # "eq" or "gte" (total is a lower bound)
    next_cursor: str | None


@dataclass
class Outcome:
    """What the page shows: results, or why there are none (a notice to read, not an error)."""

    results: Results | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    notice: str | None = None
    problem: str | None = None


def run_search(
    store: Store, embed: Embed | None, q: str, mode: Mode, filter: ConversationFilter, limit: int, cursor: str | None
) -> Results:
    """One page of results, as ``GET /v1/search`` finds them. ConfigError for search text that cannot
    be read or a cursor of another query."""
    if mode == "text":
        found = store.search(SearchQuery(text=q or None, filter=filter, limit=limit, cursor=cursor))
        hits = [(h.conversation, h.score, list(h.highlights)) for h in found.hits]
        return Results(hits, found.total, found.total_relation, found.next_cursor)
    assert embed is not None
    ranked = search_by_meaning(store, embed([q])[0], q, mode, filter, limit, cursor)
    return Results(list(ranked.hits), ranked.total, ranked.total_relation, ranked.next_cursor)


def _outcome(
    store: Store, embed: Embed | None, q: str, mode: Mode, filter: ConversationFilter, limit: int, cursor: str | None
) -> Outcome:
    if mode != "text" and not q:
        return Outcome(notice=f"{MODES[mode]} search needs words to look for: type what the customers said.")
    if mode != "text" and embed is None:
        return Outcome(
            notice="Search by meaning is not available on this server: it was started without the language "
            "model (start it with VOCMINE_API_LOAD_MODELS=true). Search by words works."
        )
    try:
        results = run_search(store, embed, q, mode, filter, limit, cursor)
        facets = store.facet_counts(
            SearchQuery(text=q or None, filter=filter) if mode != "semantic" else SearchQuery(filter=filter)
        )
    except VocmineError as exc:
        return Outcome(problem=f"{exc.message}{f' – {exc.hint}' if exc.hint else ''}.")
    return Outcome(results=results, facets=facets)


def _first_customer_text(conversation: Conversation) -> str:
    return next((t.text for t in conversation.turns if t.role == "customer"), "")


def _excerpt(text: str, length: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + " …"


def _hit_view(found: Found, analysis: ConversationAnalysis | None) -> dict[str, Any]:
    conversation, score, passages = found
    signals = sorted({(f.signal, f.severity) for f in analysis.flags}, key=lambda s: (-s[1], s[0])) if analysis else []
    return {
        "conversation": conversation,
        "score": score,
        "passages": [marked(p) for p in passages if p.strip()],
        "excerpt": _excerpt(_first_customer_text(conversation)),
        "sentiment": analysis.sentiment.label if analysis and analysis.sentiment else None,
        "stage": analysis.stage if analysis else None,
        "flags": signals,
    }


def _theme_options(themes: list[Theme]) -> list[tuple[str, str]]:
    """Active themes for the theme filter: each top-level theme followed by its sub-themes."""
    active = [t for t in themes if t.status == "active"]
    children: dict[str | None, list[Theme]] = {}
    for theme in active:
        children.setdefault(theme.parent if theme.level == "subtheme" else None, []).append(theme)
    options: list[tuple[str, str]] = []
    for top in sorted(children.get(None, []), key=lambda t: t.display_name.lower()):
        options.append((top.id, top.display_name))
        options += [
            (s.id, f"– {s.display_name}") for s in sorted(children.get(top.id, []), key=lambda t: t.display_name)
        ]
    tops = {t.id for t in children.get(None, [])}
    orphans = [t for parent, kids in children.items() if parent is not None and parent not in tops for t in kids]
    options += [(t.id, t.display_name) for t in sorted(orphans, key=lambda t: t.display_name.lower())]
    return options


def _page_size(limit: int | None, max_page: int) -> int:
    return max(1, min(limit or PAGE_SIZE, max_page, 100))


Q = Annotated[str, Query(max_length=1000)]
ModeParam = Annotated[Mode, Query()]


@router.get("/search")
def search_page(
    request: Request,
    person: Reader,
    store: StoreDep,
    settings: SettingsDep,
    filters: FiltersDep,
    q: Q = "",
    mode: ModeParam = "text",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> Response:
    q = q.strip()
    size = _page_size(limit, settings.api_max_page_size)
    outcome = _outcome(store, request.app.state.embed, q, mode, filters.filter, size, cursor or None)
    hits: list[dict[str, Any]] = []
    if outcome.results:
        ids = [c.id for c, _, _ in outcome.results.found]
        analyses = store.get_analyses(ids) if ids else {}
        hits = [_hit_view(f, analyses.get(f[0].id)) for f in outcome.results.found]
    facets = [
        (
            group,
            FACET_TITLES[group],
            FACETS[group],
            sorted(outcome.facets[group].items(), key=lambda kv: (-kv[1], kv[0])),
        )
        for group in FACETS
        if outcome.facets.get(group)
    ]
    return page(
        request,
        person,
        "search.html",
        "Search",
        status_code=400 if outcome.problem else 200,
        filters=filters,
        bar=Filters(filters.filter, {k: v for k, v in filters.values.items() if k in SHARED_BAR}),
        q=q,
        mode=mode,
        modes=MODES,
        cursor=cursor,
        limit=limit,
        outcome=outcome,
        hits=hits,
        facets=facets,
        semantic_ready=request.app.state.embed is not None,
        sentiments=SENTIMENTS,
        stages=STAGES,
        trajectories=TRAJECTORIES,
        signals=SIGNALS,
        themes=_theme_options(store.list_themes()),
        csv_limit=CSV_LIMIT,
    )


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage return,
    which some read past) gets a leading single quote, so it is shown as text, not evaluated."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(conversation: Conversation, analysis: ConversationAnalysis | None, names: dict[str, str]) -> list[str]:
    started = (
        conversation.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if conversation.started_at else ""
    )
    themes = sorted({s.theme_id for s in analysis.segments if s.theme_id}) if analysis else []
    row = [
        conversation.id,
        started,
        conversation.channel,
        conversation.source,
        conversation.brand,
        conversation.product,
        conversation.team_id,
        conversation.agent_id,
        analysis.sentiment.label if analysis and analysis.sentiment else "",
        analysis.stage if analysis else "",
        "; ".join(sorted({f.signal for f in analysis.flags})) if analysis else "",
        "; ".join(names.get(t, t) for t in themes),
        _first_customer_text(conversation),
    ]
    return [safe_cell(v) for v in row]


def _csv_pages(
    store: Store, embed: Embed | None, q: str, mode: Mode, filter: ConversationFilter, first: Results
) -> Iterator[list[Conversation]]:
    """The results a batch at a time, from the first page on, up to ``CSV_LIMIT`` conversations."""
    results, sent = first, 0
    while True:
        batch = [c for c, _, _ in results.found][: CSV_LIMIT - sent]
        if batch:
            yield batch
        sent += len(batch)
        if not results.next_cursor or not batch or sent >= CSV_LIMIT:
            return
        results = run_search(store, embed, q, mode, filter, min(CSV_BATCH, CSV_LIMIT - sent), results.next_cursor)


def _csv_lines(store: Store, pages: Iterator[list[Conversation]], names: dict[str, str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for batch in pages:
        buffer.seek(0)
        buffer.truncate()
        analyses = store.get_analyses([c.id for c in batch])
        writer.writerows(_csv_row(c, analyses.get(c.id), names) for c in batch)
        yield buffer.getvalue()


@router.get("/search.csv")
def search_csv(
    request: Request,
    person: Reader,
    store: StoreDep,
    filters: FiltersDep,
    q: Q = "",
    mode: ModeParam = "text",
) -> Response:
    """The search's results as CSV, one row per conversation (up to ``CSV_LIMIT``), streamed."""
    q = q.strip()
    embed = request.app.state.embed
    if mode != "text" and (not q or embed is None):
        notice = _outcome(store, embed, q, mode, filters.filter, 1, None).notice
        raise ConsoleError(400, notice or "this search cannot run", "search by words, or give words to look for")
    try:  # the first batch before the answer starts, so a search that cannot be read is an error page
        first = run_search(store, embed, q, mode, filters.filter, CSV_BATCH, None)
    except VocmineError as exc:
        raise ConsoleError(400, exc.message, exc.hint) from exc
    names = {t.id: t.display_name for t in store.list_themes()}
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _csv_lines(store, _csv_pages(store, embed, q, mode, filters.filter, first), names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="vocmine-search-{stamp}.csv"'},
    )

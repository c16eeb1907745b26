"""``vocmine insights``: theme trends, emerging themes, priorities and key drivers in the terminal
(definitions in ``vocmine/insights/``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vocmine.cli.common import CommandGroup, LevelOption, StoreOption, _settings, console, opened
from vocmine.errors import VocmineError
from vocmine.insights.drivers import DriverReport
from vocmine.insights.emerging import EmergingTheme, Window
from vocmine.insights.priorities import Priority
from vocmine.services.insights import WindowSpec, drivers, emerging, priority_table, trends
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

insights_app = CommandGroup(no_args_is_help=True, help="Theme trends, emerging themes, priorities, key drivers.")

RecentOption = Annotated[int, typer.Option(help="days in the recent window", min=1)]
BaselineOption = Annotated[int, typer.Option(help="days in the trailing baseline before it", min=1)]
EndOption = Annotated[str | None, typer.Option(help="window end, YYYY-MM-DD, exclusive (default: after the last day)")]
JsonOption = Annotated[bool, typer.Option("--json")]


def _spec(recent: int, baseline: int, end: str | None) -> WindowSpec:
    try:
        return WindowSpec(recent, baseline, date.fromisoformat(end) if end else None)
    except ValueError as exc:
        raise typer.BadParameter(f"--end {end!r} is not a date like 2026-11-01") from exc


def theme_names(store: Store) -> dict[str, str]:
    return {t.id: t.display_name for t in store.list_themes()}


@insights_app.command("emerging")
def emerging_command(
    store: StoreOption = None, recent: RecentOption = 14, baseline: BaselineOption = 56, end: EndOption = None,
    level: LevelOption = "theme", json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Themes mentioned significantly more in the recent window than in the baseline."""
    with opened(_settings(store=store)) as target:
        window, found = emerging(target, ConversationFilter(), _spec(recent, baseline, end), level)
        names = theme_names(target)
    if json_output:
        console.print_json(json.dumps({"window": _window_json(window), "themes": [asdict(e) for e in found]}))
        return
    print_emerging(window, found, names)


@insights_app.command("priorities")
def priorities_command(
    store: StoreOption = None, recent: RecentOption = 14, baseline: BaselineOption = 56, end: EndOption = None,
    limit: Annotated[int, typer.Option()] = 15, level: LevelOption = "theme", json_output: JsonOption = False,
) -> None:  # fmt: skip
    """One priority score per theme with every term of it (formula in the README)."""
    with opened(_settings(store=store)) as target:
        window, table = priority_table(target, ConversationFilter(), _spec(recent, baseline, end), level)
        names = theme_names(target)
    if json_output:
        console.print_json(json.dumps({"window": _window_json(window), "priorities": [asdict(p) for p in table]}))
        return
    print_priorities(window, table[:limit], names)


@insights_app.command("drivers")
def drivers_command(
    metric: Annotated[str, typer.Argument(help="nps or csat")],
    store: StoreOption = None,
    min_present: Annotated[int, typer.Option(help="fewest scored conversations with the theme")] = 30,
    level: LevelOption = "theme",
    json_output: JsonOption = False,
) -> None:
    """Each theme's impact on NPS or CSAT, with bootstrap 95% intervals."""
    if metric not in ("nps", "csat"):
        raise typer.BadParameter("metric must be nps or csat")
    with opened(_settings(store=store)) as target:
        report = drivers(target, metric, ConversationFilter(), level, min_present=min_present)  # type: ignore[arg-type]
        names = theme_names(target)
    if json_output:
        console.print_json(json.dumps(asdict(report)))
        return
    print_drivers(report, names)


@insights_app.command("trends")
def trends_command(
    theme: Annotated[str, typer.Argument(help="theme or sub-theme id (see `vocmine themes list`)")],
    store: StoreOption = None,
    interval: Annotated[str, typer.Option(help="day, week or month")] = "week",
    breakdown: Annotated[str | None, typer.Option(help="channel, stage, brand, product, agent or team")] = None,
    tz: Annotated[str, typer.Option(help="IANA time zone whose midnights start the buckets")] = "UTC",
    json_output: JsonOption = False,
) -> None:
    """A theme's volume, share, sentiment and negative share per interval."""
    if interval not in ("day", "week", "month"):
        raise typer.BadParameter("interval must be day, week or month")
    if breakdown not in (None, "channel", "stage", "brand", "product", "agent", "team"):
        raise typer.BadParameter("breakdown must be channel, stage, brand, product, agent or team")
    with opened(_settings(store=store)) as target:
        names = theme_names(target)
        level = "theme" if any(t.id == theme and t.level == "theme" for t in target.list_themes()) else "subtheme"
        found = trends(target, None, interval, breakdown, level, tz=tz)  # type: ignore[arg-type]
        points = [p for p in found if p.theme_id == theme]
    if theme not in names:
        raise VocmineError(f"no theme {theme!r}", hint="list the ids with `vocmine themes list`")
    if json_output:
        console.print_json(json.dumps([asdict(p) for p in points]))
        return
    table = Table(title=f"{theme} {escape(names[theme])} per {interval}")
    for column in ("bucket", "group", "conversations", "share", "mean sentiment", "negative share"):
        table.add_column(column)
    for p in points:
        table.add_row(
            p.bucket or "",
            p.group or "",
            str(p.conversations),
            f"{p.share:.1%}",
            f"{p.mean_sentiment:+.2f}" if p.mean_sentiment is not None else "",
            f"{p.negative_share:.0%}" if p.negative_share is not None else "",
        )
    console.print(table)


def _window_json(window: Window) -> dict[str, str]:
    return {k: v.isoformat() for k, v in asdict(window).items()}


def _window_text(window: Window) -> str:
    return (
        f"recent {window.recent_start} – {window.end} (exclusive) vs baseline {window.baseline_start} – "
        f"{window.recent_start}"
    )


def print_emerging(window: Window, found: list[EmergingTheme], names: dict[str, str], limit: int = 10) -> None:
    rising = [e for e in found if e.emerging]
    console.print(f"emerging themes, {_window_text(window)}: {len(rising)} of {len(found)} tested")
    table = Table()
    for column in ("theme", "recent", "baseline", "rate ratio", "p", "q (BH)", "new"):
        table.add_column(column)
    for e in rising[:limit]:
        table.add_row(
            f"{e.theme_id} {escape(names.get(e.theme_id, '')[:60])}",
            f"{e.recent_count}/{e.recent_conversations} ({e.recent_share:.1%})",
            f"{e.baseline_count}/{e.baseline_conversations} ({e.baseline_share:.1%})",
            f"{e.rate_ratio:.2f}",
            f"{e.p_value:.1e}",
            f"{e.q_value:.1e}",
            "yes" if e.new else "",
        )
    console.print(table)


def print_priorities(window: Window, table_rows: list[Priority], names: dict[str, str]) -> None:
    console.print(f"priorities, {_window_text(window)}")
    table = Table()
    for column in ("theme", "score", "reach", "negativity", "growth", "severity", "NPS impact"):
        table.add_column(column)
    for p in table_rows:
        t = p.terms
        table.add_row(
            f"{p.theme_id} {escape(names.get(p.theme_id, '')[:50])}",
            f"{p.score:.1f}",
            *(f"{t[k]:.2f}" if t[k] is not None else "n/a" for k in ("reach", "negativity", "growth", "severity")),
            f"{t['nps_impact']:.2f}" if t["nps_impact"] is not None else "n/a",
        )
    console.print(table)


def print_drivers(report: DriverReport, names: dict[str, str], limit: int = 10) -> None:
    console.print(
        f"{report.metric.upper()} {report.score} over {report.conversations} scored conversations; "
        f"impact in points with 95% bootstrap intervals ({report.resamples} resamples)"
    )
    table = Table()
    for column in ("theme", "with / without", "removal impact", "present − absent"):
        table.add_column(column)
    shown = 0
    for d in report.drivers:
        if shown >= limit:
            break
        shown += 1
        name = f"{d.theme_id} {escape(names.get(d.theme_id, '')[:50])}"
        if d.removal_impact is None or d.present_vs_absent is None:
            table.add_row(name, f"{d.present} / {d.absent}", "not enough data", "not enough data")
            continue
        r, v = d.removal_impact, d.present_vs_absent
        table.add_row(
            name,
            f"{d.present} / {d.absent}",
            f"{r.value:+.1f} [{r.low:+.1f}, {r.high:+.1f}]",
            f"{v.value:+.1f} [{v.low:+.1f}, {v.high:+.1f}]",
        )
    console.print(table)

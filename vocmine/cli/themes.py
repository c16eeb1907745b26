"""``vocmine themes``: fit, list, rename, merge, discover (the theme model is described in
``vocmine/analysis/themes/discovery.py`` and ``themes/catalog.py``)."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vocmine.analysis.themes.levels import at_level, subthemes_of
from vocmine.cli.common import CommandGroup, LevelOption, StoreOption, _settings, console, err, opened

themes_app = CommandGroup(no_args_is_help=True, help="Discover, list and curate themes.")

MinSizeOption = Annotated[
    int | None, typer.Option("--min-size", help="smallest theme, in segments (default: 0.3% of them, at least 10)")
]


@themes_app.command("fit")
def fit(
    store: StoreOption = None,
    seeds: Annotated[Path | None, typer.Option(help="taxonomy TOML: [[theme]] name, description, examples")] = None,
    min_size: MinSizeOption = None,
    sample: Annotated[
        int | None, typer.Option(help="cluster at most this many segments; the rest are assigned")
    ] = None,
    regroup: Annotated[
        bool, typer.Option(help="group sub-themes into top-level themes afresh, not as the previous fit did")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fit themes on the analysed segments; ids stay stable across re-fits, curation is kept."""
    from vocmine.services.themes import fit_store_themes

    settings = _settings(store=store, theme_sample=sample)
    with opened(settings) as target:
        report = fit_store_themes(
            target,
            settings,
            seeds_path=seeds,
            min_cluster_size=min_size,
            progress=None if json_output else lambda message: err.print(message),
            regroup=regroup,
        )
    if json_output:
        console.print_json(json.dumps(asdict(report)))
        return
    console.print(
        f"theme model {report.version}: {report.themes} themes over {report.segments:,} segments "
        f"(clustered {report.fitted_on:,}, smallest theme {report.min_cluster_size}) in {report.seconds}s"
    )
    console.print(
        f"kept {len(report.kept)} ids, {len(report.new)} new, {len(report.retired)} retired, "
        f"{len(report.seeded)} seeded; unassigned {report.unassigned_share:.1%} "
        f"(HDBSCAN noise before reassignment {report.noise_share_before_reassignment:.1%})"
    )
    console.print(f"artifact: {report.artifact}")


@themes_app.command("list")
def list_themes(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(help="show the largest N")] = 30,
    all_themes: Annotated[bool, typer.Option("--all", help="include retired and merged themes")] = False,
    level: LevelOption = "theme",
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The themes of the current model, largest first: top-level themes with their sub-themes."""
    settings = _settings(store=store)
    with opened(settings) as target:
        themes = target.list_themes()
        version = target.themes_version()
    if not all_themes:
        themes = [t for t in themes if t.status == "active"]
    two_levels = any(t.level == "theme" and t.status == "active" for t in themes)
    children = subthemes_of(themes)
    themes = at_level(themes, level)
    themes.sort(key=lambda t: (t.status != "active", -t.size, t.id))
    if json_output:
        console.print_json(json.dumps([t.model_dump(mode="json") for t in themes[:limit]]))
        return
    if not themes:
        console.print("no themes yet: run `vocmine themes fit` after `vocmine analyze`")
        return
    table = Table(title=f"{'top-level themes' if two_levels and level == 'theme' else 'themes'} ({version})")
    for column in ("id", "name", "segments", "keywords", "sub-themes" if level == "theme" else "in", "status"):
        table.add_column(column)
    for theme in themes[:limit]:
        status = theme.status + (f" → {theme.merged_into}" if theme.merged_into else "")
        related = ", ".join(children.get(theme.id, [])) if level == "theme" else (theme.parent or "")
        table.add_row(
            theme.id,
            escape(theme.display_name),
            str(theme.size),
            escape(", ".join(theme.keywords[:5])),
            escape(related),
            status,
        )
    console.print(table)


@themes_app.command("rename")
def rename(
    theme_id: Annotated[str, typer.Argument(help="the theme's id (see `vocmine themes list`)")],
    name: Annotated[str, typer.Argument(help="the new name")],
    store: StoreOption = None,
) -> None:
    """Give a theme a name; it is kept across re-fits."""
    settings = _settings(store=store)
    with opened(settings) as target:
        theme = target.rename_theme(theme_id, name, actor=_actor())
    console.print(f"{theme.id} is now {escape(theme.display_name)!r}")


@themes_app.command("merge")
def merge(
    sources: Annotated[list[str], typer.Argument(help="theme ids to fold in")],
    into: Annotated[str, typer.Option("--into", help="the theme they become")],
    store: StoreOption = None,
) -> None:
    """Merge themes; their segments move now and later fits keep serving them as the target."""
    settings = _settings(store=store)
    with opened(settings) as target:
        theme = target.merge_themes(sources, into, actor=_actor())
    console.print(f"merged {', '.join(sources)} into {theme.id} ({escape(theme.display_name)}, {theme.size} segments)")


@themes_app.command("discover")
def discover(
    input: Annotated[Path, typer.Option("--input", help="text (one per line), CSV or JSONL file")],
    output: Annotated[Path, typer.Option("--output", help="JSONL: one line per input line, in order")],
    text_column: Annotated[str | None, typer.Option(help="CSV column with the text")] = None,
    text_field: Annotated[str | None, typer.Option(help="JSONL field with the text")] = None,
    input_format: Annotated[
        str | None, typer.Option("--format", help="text | csv | jsonl (default: by suffix)")
    ] = None,
    min_size: MinSizeOption = None,
    summary: Annotated[Path | None, typer.Option(help="themes summary JSON (default: OUTPUT.themes.json)")] = None,
) -> None:
    """Discover themes in an export outside the store (each line embedded whole)."""
    from vocmine.services.themes import discover_file

    result = discover_file(
        input,
        output,
        _settings(),
        input_format=input_format,
        text_column=text_column,
        text_field=text_field,
        min_cluster_size=min_size,
        summary_path=summary,
    )
    themes = result["themes"]
    assert isinstance(themes, list)
    console.print(
        f"{result['texts']} texts, {len(themes)} themes, unassigned {float(result['unassigned_share']):.1%}, "  # type: ignore[arg-type]
        f"{result['errors']} lines without text; written {output} and {result['summary_file']}"
    )
    for theme in themes[:15]:
        console.print(f"  {theme['id']:>5} {theme['size']:>6}  {escape(theme['label'])}")


def _actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"

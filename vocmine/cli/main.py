"""The ``vocmine`` command.

Exit statuses: 0 success; 1 the run finished but some records were rejected (see the report);
2 bad usage or input path (nothing was ingested); 3 the store could not be opened or written.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vocmine.cli.common import CommandGroup, StoreOption, _open, _settings, console, describe_invalid, err
from vocmine.cli.insights import insights_app
from vocmine.cli.keys import keys_app, serve
from vocmine.cli.render import (
    highlight,
    print_analysis,
    print_analysis_stats,
    print_analyze_report,
    print_report,
    print_stats,
)
from vocmine.cli.store import es_app, reindex_command
from vocmine.cli.themes import themes_app

if TYPE_CHECKING:
    from vocmine.ingest.inputs.sources import InputFile
    from vocmine.services.analysis import AnalyzeReport

from vocmine.errors import ConfigError, InputPathError, NotFoundError
from vocmine.extras import ANALYSIS_MODULES, ensure_installed, missing_extra_message
from vocmine.ingest.mapping import Mapping, load_mapping
from vocmine.services.ingestion import EXIT_USAGE, IngestReport, default_report_dir, ingest_paths
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, SearchQuery

app = CommandGroup(add_completion=False, no_args_is_help=True, help=__doc__)


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="files, directories or globs; .gz and .zip are opened")],
    store: StoreOption = None,
    channel: Annotated[str | None, typer.Option(help="chat | email | social | call: skip channel detection")] = None,
    format: Annotated[str | None, typer.Option("--format", help="force a format (see `vocmine formats`)")] = None,
    mapping: Annotated[
        Path | None, typer.Option("--map", help="read any CSV/JSON through a mapping file (docs/mapping.md)")
    ] = None,
    company_domain: Annotated[list[str], typer.Option(help="e-mail domain of the company (agent side)")] = [],  # noqa: B006
    brand_account: Annotated[list[str], typer.Option(help="social account of the company (agent side)")] = [],  # noqa: B006
    no_redact: Annotated[bool, typer.Option("--no-redact", help="store text without PII redaction")] = False,
    report_dir: Annotated[Path | None, typer.Option(help="where the report files go")] = None,
    analyze: Annotated[bool, typer.Option("--analyze", help="then analyse what is new or changed")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Ingest conversations; print a summary and write a report (rejections as JSONL)."""
    if analyze:
        ensure_installed(*ANALYSIS_MODULES)
    settings = _settings(
        store=store,
        company_domains=company_domain,
        brand_accounts=brand_account,
        **({"redact_pii": False} if no_redact else {}),
    )
    target = _open(settings)
    loaded = load_mapping(mapping) if mapping is not None else None
    report = _run_ingest(paths, settings, target, channel, format, report_dir, mapping=loaded, quiet=json_output)
    analysis = _run_analyze(settings, target, ConversationFilter(), redo=False, quiet=json_output) if analyze else None
    if json_output:
        summary = report.to_dict()
        if analysis is not None:
            summary["analysis"] = analysis.as_dict()
        console.print_json(json.dumps(summary))
    else:
        print_report(report)
        if analysis is not None:
            print_analyze_report(analysis)
    raise typer.Exit(report.exit_status)


def _run_ingest(
    paths: list[str],
    settings: Settings,
    target: Store,
    channel: str | None,
    format_name: str | None,
    report_dir: Path | None,
    *,
    mapping: Mapping | None = None,
    quiet: bool = False,
) -> IngestReport:
    from vocmine.ingest.inputs.sources import expand_inputs

    files, _ = expand_inputs(paths)  # fail on a bad path before the progress bar starts
    total = sum(f.size or 0 for f in files)
    done: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("ingesting", total=total or None)

        def on_file(source: InputFile) -> None:
            progress.update(task, description=f"ingesting {Path(source.name).name[:40]}")

        def on_progress(name: str, consumed: int) -> None:
            done[name] = consumed
            progress.update(task, completed=min(sum(done.values()), total))

        report = ingest_paths(
            paths,
            settings,
            target,
            channel=channel,
            format_name=format_name,
            mapping=mapping,
            report_dir=report_dir or default_report_dir(settings),
            on_progress=on_progress,
            on_file=on_file,
        )
        progress.update(task, completed=total)
    return report


# The option that sets each filter field, to name it in an error.
FILTER_OPTIONS = {
    "channels": "--channel",
    "brands": "--brand",
    "products": "--product",
    "agent_ids": "--agent",
    "team_ids": "--team",
    "languages": "--language",
    "sources": "--source",
    "sentiments": "--sentiment",
    "stages": "--stage",
    "signals": "--flag",
    "trajectories": "--trajectory",
}


@app.command()
def search(
    text: Annotated[str | None, typer.Argument(help='words, "phrases", OR, -exclude, prefix*')] = None,
    store: StoreOption = None,
    channel: Annotated[list[str], typer.Option(help="repeat for several")] = [],  # noqa: B006
    brand: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    product: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    agent: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    team: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    language: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    source: Annotated[list[str], typer.Option()] = [],  # noqa: B006
    since: Annotated[datetime | None, typer.Option(help="started at or after (ISO date)")] = None,
    until: Annotated[datetime | None, typer.Option(help="started before (ISO date)")] = None,
    sentiment: Annotated[list[str], typer.Option(help="negative | neutral | positive (analysed)")] = [],  # noqa: B006
    stage: Annotated[list[str], typer.Option(help="journey stage (analysed)")] = [],  # noqa: B006
    flag: Annotated[list[str], typer.Option(help="raised signal, e.g. escalation (analysed)")] = [],  # noqa: B006
    trajectory: Annotated[list[str], typer.Option(help="improved | worsened | steady (analysed)")] = [],  # noqa: B006
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Full-text search over what customers said, with filters."""
    try:
        settings = _settings(store=store)
        query = SearchQuery(
            text=text,
            limit=limit,
            cursor=cursor,
            filter=ConversationFilter(
                channels=channel,
                brands=brand,
                products=product,
                agent_ids=agent,
                team_ids=team,
                languages=language,
                sources=source,
                since=since,
                until=until,
                sentiments=sentiment,
                stages=stage,
                signals=flag,
                trajectories=trajectory,
            ),
        )
        page = _open(settings).search(query)
    except ValidationError as exc:  # an unknown channel, sentiment, stage …
        raise ConfigError(f"invalid filter: {describe_invalid(exc, FILTER_OPTIONS)}") from exc
    if json_output:
        console.print_json(page.model_dump_json())
        return
    at_least = "at least " if page.total_relation == "gte" else ""
    console.print(f"{at_least}{page.total} conversation(s) match")
    for hit in page.hits:
        c = hit.conversation
        when = c.started_at.strftime("%Y-%m-%d %H:%M") if c.started_at else "-"
        console.print(f"[bold]{c.id}[/bold]  {c.channel}  {when}  {escape(c.subject or '')}")
        for passage in hit.highlights or [c.customer_text()[:200]]:
            console.print("   " + highlight(passage))
    if page.next_cursor:
        console.print(f"next page: --cursor {page.next_cursor}")


@app.command()
def show(
    conversation_id: Annotated[str, typer.Argument(help="a conversation id, as search prints it")],
    store: StoreOption = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one conversation: its turns, and what analysis found (segment sentiment, stage, flags)."""
    target = _open(_settings(store=store))
    conversation = target.get_conversation(conversation_id)
    if conversation is None:
        raise NotFoundError(f"no conversation with id {conversation_id!r}", hint="copy an id from `vocmine search`")
    analysis = target.get_analyses([conversation_id]).get(conversation_id)
    if json_output:
        payload: dict[str, Any] = {"conversation": conversation.model_dump(mode="json")}
        payload["analysis"] = analysis.model_dump(mode="json") if analysis else None
        console.print_json(json.dumps(payload))
        return
    c = conversation
    console.print(f"[bold]{c.id}[/bold]  channel={c.channel}  source={c.source}  language={c.language}")
    for label, value in (
        ("subject", c.subject),
        ("started", c.started_at),
        ("customer", c.customer_id),
        ("agent", c.agent_id),
        ("team", c.team_id),
        ("brand", c.brand),
        ("product", c.product),
        ("survey", c.survey.model_dump(exclude_none=True) if c.survey else None),
        ("call", c.call_metrics.model_dump() if c.call_metrics else None),
    ):
        if value:
            console.print(f"  {label}: {escape(str(value))}")
    print_analysis(c, analysis)


@app.command()
def stats(store: StoreOption = None, json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts of what the store holds."""
    target = _open(_settings(store=store))
    result, analysis = target.stats(), target.analysis_stats()
    if json_output:
        console.print_json(json.dumps({**result.model_dump(mode="json"), "analysis": analysis.model_dump(mode="json")}))
        return
    print_stats(result)
    print_analysis_stats(analysis)


@app.command()
def analyze(
    store: StoreOption = None,
    redo: Annotated[bool, typer.Option("--all", help="re-analyse everything, not only what needs it")] = False,
    channel: Annotated[list[str], typer.Option(help="only these channels")] = [],  # noqa: B006
    since: Annotated[datetime | None, typer.Option(help="only conversations started at or after")] = None,
    until: Annotated[datetime | None, typer.Option(help="only conversations started before")] = None,
    batch: Annotated[int | None, typer.Option(help="conversations per batch (VOCMINE_ANALYSIS_BATCH)")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    engine: Annotated[str, typer.Option(help="local (this process) or dask (docs/scaling.md)")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="dask: a running scheduler, tcp://host:8786")] = None,
    workers: Annotated[int | None, typer.Option(help="dask: worker processes of a local cluster")] = None,
    partitions: Annotated[int | None, typer.Option(help="dask: parts to split the work into")] = None,
) -> None:
    """Analyse stored conversations: segment sentiment, trajectory, journey stage, signals.

    By default only what needs it: conversations never analysed, changed since, or analysed by
    other model versions (after retraining or editing the signal rules). With --engine dask it runs
    on a Dask cluster (the scale extra): a local one of --workers processes, or the one at --scheduler."""
    from vocmine.cli.scaleout import check_engine_options, run_on_dask

    check_engine_options(engine, redo=redo, scheduler=scheduler, workers=workers, partitions=partitions)
    try:
        settings = _settings(store=store, analysis_batch=batch)
        target = _open(settings)
        filter = ConversationFilter(channels=channel, since=since, until=until)
        if engine == "dask":
            report = run_on_dask(
                settings, target, filter, scheduler=scheduler, workers=workers, partitions=partitions, quiet=json_output
            )
        else:
            report = _run_analyze(settings, target, filter, redo=redo, quiet=json_output)
    except ValueError as exc:
        raise ConfigError(f"invalid filter: {exc}") from exc
    if json_output:
        console.print_json(json.dumps(report.as_dict()))
    else:
        print_analyze_report(report)


def _run_analyze(
    settings: Settings, target: Store, filter: ConversationFilter, *, redo: bool, quiet: bool = False
) -> AnalyzeReport:
    from vocmine.services.analysis import analyze_store, build_analyzer
    from vocmine.store.query import versions_key

    analyzer = build_analyzer(settings, store=target)
    total = (
        target.stats(filter).conversations
        if redo
        else target.count_unanalysed(versions_key(analyzer.model_versions), filter)
    )
    with Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("analysing", total=total)
        return analyze_store(
            target,
            analyzer,
            batch_size=settings.analysis_batch,
            filter=filter,
            redo=redo,
            on_batch=lambda n: progress.advance(task, n),
        )


train_app = CommandGroup(no_args_is_help=True, help="Train the shipped models on labelled data.")
app.add_typer(train_app, name="train")
app.add_typer(themes_app, name="themes")
app.add_typer(insights_app, name="insights")
app.add_typer(keys_app, name="keys")
app.add_typer(es_app, name="es")
app.command("reindex")(reindex_command)
app.command("serve")(serve)


def _require_data(data: Path, needed: list[str]) -> None:
    """The training data folders a command reads, checked before any model loads."""
    missing = [name for name in needed if not (data / name).is_dir()]
    if missing:
        raise InputPathError(f"no {', '.join(missing)} under {data}", hint="pass --data ../shared/data")


@train_app.command("journey")
def train_journey(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option(help="where the head goes (default: models/journey/)")] = None,
) -> None:
    """Train the journey-stage head on the seed set and hand-labelled real texts; print its
    cross-validated metrics."""
    from vocmine.analysis.journey.model import DEFAULT_HEAD
    from vocmine.analysis.journey.train import train

    needed = ["bitext_cs", "twcs_sample", "airline", "semeval2014_restaurants", "cfpb_complaints_sample", "banking77"]
    _require_data(data, needed)
    from vocmine.services.encoding import encoder_for

    # Trained on the configured encoder's vectors: a head only makes sense for the encoder it saw.
    metrics = train(data, out or DEFAULT_HEAD, encoder=encoder_for(_settings()))
    table = Table("metric", "value", title="Journey head")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    console.print(table)


@train_app.command("signals")
def train_signals(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option(help="where the heads go (default: models/signals/)")] = None,
) -> None:
    """Train the learned signal heads on the hand-labelled real messages; print their cross-validated
    precision, recall and F1 per signal, against the rules alone on the same folds."""
    from vocmine.analysis.signals.heads import DEFAULT_HEADS
    from vocmine.analysis.signals.train import train

    needed = ["bitext_cs", "twcs_sample", "airline", "cfpb_complaints_sample", "banking77"]
    _require_data(data, needed)
    from vocmine.services.encoding import encoder_for

    metrics = train(data, out or DEFAULT_HEADS, encoder=encoder_for(_settings()))
    table = Table("signal", "labelled", "rules P / R / F1", "heads P / R / F1", "heads + rules P / R / F1")
    cv = metrics["cv"]
    for signal, labelled in metrics["labelled"].items():
        cells = [
            "{precision:.2f} / {recall:.2f} / {f1:.2f}".format(**cv[name]["per_signal"][signal])
            for name in ("rules", "heads", "heads_and_rules")
        ]
        table.add_row(signal, str(labelled), *cells)
    table.add_row("macro-F1", "", *(f"{cv[name]['macro_f1']:.3f}" for name in ("rules", "heads", "heads_and_rules")))
    console.print(table)


@train_app.command("content")
def train_content(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option(help="where the head goes (default: models/content/)")] = None,
) -> None:
    """Train the content filter (which segments are filler, left out of themes) on the hand-labelled
    real segments; print its cross-validated precision and recall."""
    from vocmine.analysis.content.filter import DEFAULT_HEAD
    from vocmine.analysis.content.train import train_content_head
    from vocmine.services.encoding import encoder_for

    needed = ["twcs_sample", "airline", "cfpb_complaints_sample"]
    _require_data(data, needed)
    metrics = train_content_head(data, encoder_for(_settings()), out or DEFAULT_HEAD)
    table = Table("measured (5-fold CV)", "filler precision", "filler recall", "content kept", title="Content filter")
    for name in ("rule", "head", "rule_or_head"):
        row = metrics[name]
        table.add_row(name, *(str(row[k]) for k in ("filler_precision", "filler_recall", "content_kept")))
    console.print(table)
    console.print(f"threshold {metrics['threshold']} on {metrics['segments']} segments ({metrics['filler']} filler)")


@train_app.command("sentiment")
def train_sentiment(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option(help="where the layers go (default: models/sentiment/)")] = None,
    epochs: Annotated[int, typer.Option(min=1, max=10, help="passes over the pool (shipped: 3)")] = 3,
    head_only: Annotated[
        bool,
        typer.Option(
            "--head-only",
            help="keep the tuned layer in --out and only refit its head on the tweets and our written "
            "escalation examples (about 15 minutes)",
        ),
    ] = False,
) -> None:
    """Fine-tune the top encoder layer for sentiment, then refit its head (about 45 minutes on 2 CPU cores)."""
    from vocmine.analysis.sentiment.model import DEFAULT_DIR
    from vocmine.analysis.sentiment.train import train

    needed = [data / "semeval_twitter_sentiment", data / "airline", data / "tweeteval_sentiment"]
    missing = [str(p) for p in needed if not p.is_dir()]
    if missing:
        raise InputPathError(f"missing data folders: {', '.join(missing)}", hint="pass --data ../shared/data")
    directory = out or DEFAULT_DIR
    if head_only:
        from vocmine.analysis.sentiment.head_refit import refit_head

        if not (directory / "sentiment_layers.safetensors").is_file():
            raise InputPathError(
                f"no sentiment layers in {directory} to refit", hint="train them first without --head-only"
            )
        card = refit_head(data, directory, log=lambda m: err.print(m))
    else:
        card = train(data, directory, epochs=epochs, log=lambda m: err.print(m))
    console.print_json(json.dumps({k: card[k] for k in ("version", "train_size", "history", "head_refit")}))


@app.command()
def classify(
    task: Annotated[str, typer.Option(help="sentiment | journey | signals")],
    input: Annotated[Path, typer.Option("--input", help="text (one per line), .csv or .jsonl")],
    output: Annotated[Path, typer.Option("--output", help="JSON Lines, one object per input record")],
    input_format: Annotated[
        str | None, typer.Option("--format", help="text | csv | jsonl (default: by extension)")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="CSV column holding the text")] = None,
    text_field: Annotated[str | None, typer.Option(help="JSONL field holding the text")] = None,
) -> None:
    """Score an ad-hoc export without a store; every input record gets one output line, in order."""
    from vocmine.analysis.classify import classify_file

    if not input.is_file():
        raise InputPathError(f"input file does not exist: {input}", hint="check the path")
    counts = classify_file(
        task, input, output, input_format=input_format, text_column=text_column, text_field=text_field
    )
    err.print(f"{counts['scored']} scored, {counts['errors']} could not be scored (see 'error' lines) -> {output}")
    raise typer.Exit(1 if counts["errors"] else 0)


@app.command()
def formats() -> None:
    """List the input formats and how they are recognised."""
    from vocmine.ingest.inputs.formats import FORMATS

    table = Table("format", "channel", "what", "where the file comes from")
    for f in FORMATS.values():
        table.add_row(f.name, f.channel, f.description, f.export)
    console.print(table)


DEMO_ES_PREFIX = "vocmine-demo"  # the demo's own indices on a cluster: vocmine-demo-<kind>-v<N>


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the corpus, store and reports go")] = Path("var/demo"),
    conversations: Annotated[int, typer.Option(min=100)] = 3200,
    seed: Annotated[int, typer.Option()] = 7,
    serve_api: Annotated[bool, typer.Option("--serve", help="then serve the HTTP API on the demo store")] = False,
    port: Annotated[int, typer.Option(help="port for --serve")] = 8000,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="build the demo on this Elasticsearch cluster (https://host:9200, a user in the URL or "
            f"VOCMINE_ES_API_KEY) instead of WORKDIR/vocmine.sqlite, in indices of its own, {DEMO_ES_PREFIX}-* "
            "(not VOCMINE_ES_PREFIX's); no other index is read, written or deleted. VOCMINE_STORE is not used here",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help=f"with --store: if the demo's {DEMO_ES_PREFIX}-* indices already hold documents (an earlier "
            "demo), delete those indices, and only those, first; without it the demo stops and says so",
        ),
    ] = False,
) -> None:
    """Generate the bundled sample corpus, ingest it into a fresh embedded store, analyse it, fit
    themes, show insights; with --serve, end by serving the API over it. With --store URL the same
    demo is built on an Elasticsearch cluster, in its own vocmine-demo-* indices."""
    from vocmine.demo.generate import DEMO_BRAND_ACCOUNTS, DEMO_COMPANY_DOMAINS, write_corpus

    ensure_installed(*ANALYSIS_MODULES, *(("uvicorn", "fastapi") if serve_api else ()))

    corpus = workdir / "corpus"
    elastic: Store | None = None
    if store is None:
        store_path = workdir / "vocmine.sqlite"
        for stale in (store_path, Path(f"{store_path}-wal"), Path(f"{store_path}-shm")):
            stale.unlink(missing_ok=True)
        store_url = f"sqlite:///{store_path}"
        beside: dict[str, str] = {}
    else:
        elastic = demo_elastic_store(store, replace=replace)
        store_url = store
        # A cluster has no folder: the theme models and the embedding cache stay in the workdir.
        beside = {"themes_dir": str(workdir / "themes"), "embedding_cache": str(workdir / "embeddings.sqlite")}
    shutil.rmtree(workdir / "themes", ignore_errors=True)  # a fresh store starts a fresh theme history
    console.rule("1. sample corpus")
    written = write_corpus(corpus, conversations=conversations, seed=seed)
    for kind, count in sorted(written.items()):
        console.print(f"  {kind}: {count}")
    console.rule("2. ingest")
    settings = _settings(
        store=store_url, company_domains=DEMO_COMPANY_DOMAINS, brand_accounts=DEMO_BRAND_ACCOUNTS, **beside
    )
    target = _open(settings) if elastic is None else elastic
    report = _run_ingest([str(corpus)], settings, target, None, None, workdir / "reports")
    print_report(report)
    console.rule("3. store")
    print_stats(target.stats())
    console.rule("4. analysis: sentiment, journey stage, signals")
    print_analyze_report(_run_analyze(settings, target, ConversationFilter(), redo=False))
    print_analysis_stats(target.analysis_stats())
    for title, condition in (
        ("the most severe flag: act now", ConversationFilter(min_severity=5, channels=["chat"])),
        ("a conversation that ended better than it began", ConversationFilter(trajectories=["improved"])),
    ):
        page = target.search(SearchQuery(filter=condition, limit=1))
        if page.hits:
            example = page.hits[0].conversation
            console.print(f"\n[bold]{title}[/bold] ({page.total} like it): {example.id}")
            print_analysis(example, target.get_analyses([example.id]).get(example.id))
    console.rule("5. search")
    for text, condition in (
        ("refund", ConversationFilter()),
        ('"cancel my" OR cancelling', ConversationFilter(signals=["churn_risk"])),
        ("charged twice", ConversationFilter(sentiments=["negative"])),
    ):
        page = target.search(SearchQuery(text=text, filter=condition, limit=3))
        described = ", ".join(f"{k}={v}" for k, v in condition.model_dump(exclude_defaults=True).items())
        at_least = "at least " if page.total_relation == "gte" else ""
        console.print(f"[bold]search {escape(text)}[/bold] {described}: {at_least}{page.total} conversation(s)")
        for hit in page.hits:
            console.print(
                f"  {hit.conversation.id} ({hit.conversation.channel}) "
                + highlight(hit.highlights[0] if hit.highlights else "")
            )
    _demo_themes(settings, target)
    if elastic is None:
        console.print(f"\nTry: vocmine search 'late delivery' --sentiment negative --store {store_url}")
    else:
        console.print(
            f"\nTry: export VOCMINE_ES_PREFIX={DEMO_ES_PREFIX}   # the demo's indices (unset it for your own)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        _print_command(f"     vocmine search 'late delivery' --sentiment negative --store {store_url}")
    _print_command(f"     vocmine search --flag escalation --store {store_url}", elastic is None)
    _print_command(f"     vocmine show <id> --store {store_url}", elastic is None)
    _print_command(f"     vocmine insights drivers nps --store {store_url}", elastic is None)
    _print_command(f"     vocmine insights trends <theme id> --store {store_url}", elastic is None)
    serve_env = {} if elastic is None else {"VOCMINE_ES_PREFIX": DEMO_ES_PREFIX, **_demo_theme_env(settings)}
    _demo_api(target, port, serve_api, store_url, serve_env)


def _print_command(line: str, rich_markup: bool = False) -> None:
    """A line to copy: as before for the embedded store (rich's rendering), as written for a URL (rich
    would read ``[…]`` in it as markup and break it across lines)."""
    if rich_markup:
        console.print(line)
    else:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _demo_theme_env(settings: Settings) -> dict[str, str]:
    return {"VOCMINE_THEMES_DIR": str(settings.themes_dir)} if settings.themes_dir else {}


def demo_elastic_store(url: str, *, replace: bool) -> Store:
    """The demo's store on a cluster: indices of its own (``DEMO_ES_PREFIX``), whatever
    VOCMINE_ES_PREFIX says, so it never mixes with a user's data; writes wait for the refresh, so each
    step sees the last one's. If those indices already hold documents it stops, unless ``replace``:
    then it deletes them (they only, by exact name) and starts afresh."""
    from vocmine.store.factory import open_elastic_store

    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"--store takes an Elasticsearch URL (http(s)://host:9200), not {url!r}",
            hint="the embedded demo store is WORKDIR/vocmine.sqlite: choose its folder with --workdir",
        )
    elastic = open_elastic_store(url, prefix=DEMO_ES_PREFIX, refresh="wait_for")
    held = elastic.document_counts()
    if sum(held.values()) and not replace:
        conversations = sum(n for name, n in held.items() if name.startswith(f"{DEMO_ES_PREFIX}-conversations-"))
        indices = ", ".join(f"{name} ({n})" for name, n in held.items())
        elastic.close()
        raise ConfigError(
            f"the demo's indices there already hold {conversations} conversations ({indices}); "
            "the demo starts from an empty store",
            hint=f"run it again with --replace to delete those {DEMO_ES_PREFIX}-* indices (no other) first",
        )
    if held:
        elastic.drop_indices()
        if sum(held.values()):
            _print_command(f"deleted the demo's earlier indices: {', '.join(held)}")
    return elastic


def _demo_api(target: Store, port: int, serve_api: bool, store_url: str, env: dict[str, str] | None = None) -> None:
    from vocmine.services.keys import create_key

    console.rule("10. HTTP API")
    _, token = create_key(target, "demo", ["read", "review", "admin"])
    base = f"http://127.0.0.1:{port}/v1"
    console.print("demo API key (read, review, admin):")
    console.print(token, markup=False, highlight=False, soft_wrap=True)
    console.print(f"web console: http://127.0.0.1:{port}/ (sign in with the key above)", markup=False, highlight=False)
    for path in (
        "search?q=refund&sentiment=negative&limit=3",
        "themes/emerging",
        "signals/priorities",
        "drivers/nps",
        "themes/trends?interval=week&breakdown=channel",
    ):
        console.print(
            f'curl -H "Authorization: Bearer {token}" "{base}/{path}"', markup=False, highlight=False, soft_wrap=True
        )
    if not serve_api:
        if env:
            assignments = " ".join(f"{name}={value}" for name, value in env.items())
            _print_command(f"serve it: {assignments} vocmine serve --store {store_url} --port {port}")
        else:
            console.print(f"serve it: vocmine serve --store {store_url} --port {port}")
        return
    import os

    import uvicorn

    target.close()
    os.environ["VOCMINE_STORE"] = store_url
    os.environ.update(env or {})
    console.print(f"serving {base} (Ctrl-C to stop)")
    uvicorn.run("vocmine_api.app:create_app", factory=True, host="127.0.0.1", port=port, log_level="warning")


def _demo_themes(settings: Settings, target: Store) -> None:
    from vocmine.analysis.themes.levels import subthemes_of
    from vocmine.cli.insights import print_drivers, print_emerging, print_priorities, theme_names
    from vocmine.services.insights import WindowSpec, drivers, emerging, priority_table
    from vocmine.services.themes import active_themes, fit_store_themes

    console.rule("6. themes")
    report = fit_store_themes(target, settings, progress=lambda message: err.print(message))
    top_level = active_themes(target, "theme")
    console.print(
        f"{len(top_level)} top-level themes over {report.themes} sub-themes, {report.segments:,} customer segments "
        f"in {report.seconds}s; {report.filler_share:.1%} filler (thanks, chasers…) left out, "
        f"{report.unassigned_share - report.filler_share:.1%} of the rest unassigned"
    )
    children = subthemes_of(target.list_themes())
    for theme in top_level[:10]:
        parts = len(children.get(theme.id, []))
        plural = "s" if parts != 1 else ""
        console.print(f"  {theme.id:>5} {theme.size:>5}  {escape(theme.display_name)} ({parts} sub-theme{plural})")
    names = theme_names(target)
    spec = WindowSpec(recent_days=14, baseline_days=56)
    console.rule("7. emerging themes")
    print_emerging(*emerging(target, ConversationFilter(), spec), names, limit=5)
    console.rule("8. priorities")
    window, table = priority_table(target, ConversationFilter(), spec)
    print_priorities(window, table[:8], names)
    console.rule("9. key drivers of NPS")
    print_drivers(drivers(target, "nps"), names, limit=6)


def main() -> None:
    """The installed ``vocmine`` command: the app, with a missing optional dependency reported as the
    extra to install rather than as a traceback."""
    try:
        app()
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc)
        if message is None:
            raise
        err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
        raise SystemExit(EXIT_USAGE) from None


if __name__ == "__main__":
    main()

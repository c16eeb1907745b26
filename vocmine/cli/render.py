"""How the CLI prints reports, stats and analysis results (rich tables and highlighted text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vocmine.schema import AnalysedSegment, Conversation, ConversationAnalysis
from vocmine.services.ingestion import IngestReport
from vocmine.store.query import AnalysisStats, StoreStats

if TYPE_CHECKING:
    from vocmine.services.analysis import AnalyzeReport

console = Console()


def print_report(report: IngestReport) -> None:
    table = Table(title="Ingestion summary", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("inputs read", str(report.files_read))
    table.add_row("inputs skipped", str(len(report.files_skipped)))
    table.add_row("records read", str(report.records_read))
    table.add_row("  stored", str(report.records_stored))
    table.add_row("  duplicate", str(report.records_duplicate))
    table.add_row("  rejected", str(report.records_rejected))
    for outcome in ("new", "updated", "unchanged"):
        table.add_row(f"conversations {outcome}", str(report.conversations[outcome]))
    for channel_name, count in sorted(report.conversations_by_channel.items()):
        table.add_row(f"  {channel_name}", str(count))
    for kind, count in sorted(report.pii_redacted.items()):
        table.add_row(f"PII redacted: {kind}", str(count))
    console.print(table)
    for skipped in report.files_skipped[:5]:
        console.print(f"  skipped {escape(skipped.name)}: {escape(skipped.reason)}")
    if report.rejection_samples:
        console.print(f"[yellow]{report.records_rejected} record(s) rejected[/yellow], for example:")
        for sample in report.rejection_samples[:5]:
            console.print(f"  {escape(sample['file'])} ({sample['position']}): {escape(sample['reason'])}")
    console.print(f"report: {report.summary_path}\nrejections: {report.rejections_path}")


def highlight(passage: str) -> str:
    parts = escape(passage.replace("\n", " ")).split("<mark>")
    return parts[0] + "".join("[reverse]" + p.replace("</mark>", "[/reverse]", 1) for p in parts[1:])


def print_stats(result: StoreStats) -> None:
    table = Table(title="Store", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("conversations", str(result.conversations))
    table.add_row("turns (customer)", f"{result.turns} ({result.customer_turns})")
    table.add_row("with survey scores", str(result.with_survey))
    table.add_row(
        "time span",
        f"{result.first_started_at:%Y-%m-%d} … {result.last_started_at:%Y-%m-%d}" if result.first_started_at else "-",
    )
    for title, counts in (
        ("channel", result.by_channel),
        ("source", result.by_source),
        ("language", dict(list(result.by_language.items())[:6])),
    ):
        for key, value in counts.items():
            table.add_row(f"{title}: {key}", str(value))
    console.print(table)


def print_analyze_report(report: AnalyzeReport) -> None:
    table = Table(title="Analysis", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("conversations analysed", str(report.conversations))
    table.add_row("customer segments", str(report.segments))
    table.add_row("texts run through the models", str(report.encoded))
    table.add_row("texts from the embedding cache", str(report.cached))
    table.add_row("seconds", f"{report.seconds:.1f}")
    for step, seconds in report.seconds_by_step.items():
        table.add_row(f"  {step}", f"{seconds:.1f}")
    for title, counts in (("sentiment", report.sentiments), ("stage", report.stages), ("flag", report.flags)):
        for key, value in counts.most_common():
            table.add_row(f"{title}: {key}", str(value))
    console.print(table)
    for model, version in report.model_versions.items():
        console.print(f"  {model}: {escape(version)}")


def print_analysis_stats(result: AnalysisStats) -> None:
    table = Table(title="Analysis results", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("analysed (current)", f"{result.analysed} of {result.conversations}")
    table.add_row("stale (changed since)", str(result.stale))
    table.add_row("segments", str(result.segments))
    table.add_row("in a language the models do not read", str(result.unsupported_language))
    for title, counts in (
        ("sentiment", result.by_sentiment),
        ("trajectory", result.by_trajectory),
        ("stage", result.by_stage),
        ("flag", result.by_signal),
    ):
        for key, value in counts.items():
            table.add_row(f"{title}: {key}", str(value))
    console.print(table)


_SENTIMENT_STYLE = {"negative": "red", "neutral": "white", "positive": "green"}


def print_analysis(conversation: Conversation, analysis: ConversationAnalysis | None) -> None:
    """A conversation's turns with segment sentiment inline, then its flags with evidence."""
    segments_by_turn: dict[int, list[AnalysedSegment]] = {}
    for segment in analysis.segments if analysis else []:
        segments_by_turn.setdefault(segment.turn_index, []).append(segment)
    for index, turn in enumerate(conversation.turns):
        when = (
            turn.timestamp.strftime("%Y-%m-%d %H:%M")
            if turn.timestamp
            else (f"{turn.start_s:.1f}s" if turn.start_s is not None else "")
        )
        console.print(f"[cyan]{turn.role}[/cyan] {escape(turn.speaker or '')} {when}")
        segments = segments_by_turn.get(index)
        if not segments:
            console.print("   " + escape(turn.text).replace("\n", "\n   "))
            continue
        for s in segments:
            style = _SENTIMENT_STYLE[s.sentiment]
            theme = f", theme {s.theme_id}" if s.theme_id else ""
            detail = f"({s.sentiment} {s.sentiment_score:+.2f}, {s.stage}{theme})"
            console.print(f"   [{style}]{escape(s.text)}[/{style}]  [dim]{detail}[/dim]")
    if analysis is None:
        console.print("[dim]not analysed yet: run `vocmine analyze`[/dim]")
        return
    sentiment = analysis.sentiment
    if sentiment:
        line = f"sentiment: {sentiment.label} {sentiment.score:+.2f} (most negative {sentiment.most_negative:+.2f})"
        if sentiment.trajectory:
            line += f"; trajectory {sentiment.trajectory} ({sentiment.opening:+.2f} → {sentiment.closing:+.2f})"
        console.print(line)
    console.print(f"journey stage: {analysis.stage} (confidence {analysis.stage_confidence:.2f})")
    for flag in sorted(analysis.flags, key=lambda f: -f.severity):
        found = " and ".join(flag.detected_by)
        if flag.probability is not None:
            found += f", model probability {flag.probability:.2f}"
        console.print(f"[yellow]flag {flag.signal}[/yellow] severity {flag.severity} ({found}): {escape(flag.reason)}")
        for evidence in flag.evidence[:3]:
            context = evidence.context.replace(evidence.text, f"<mark>{evidence.text}</mark>", 1)
            console.print(f"   turn {evidence.turn_index}: " + highlight(context))
    console.print(
        "[dim]models: " + escape(", ".join(f"{k} {v}" for k, v in analysis.model_versions.items())) + "[/dim]"
    )

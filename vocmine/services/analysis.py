"""Wires the analysis pipeline to a store: ``vocmine analyze``, the demo, and (later) the API.

``analyze_store`` reads the conversations that need analysis – never analysed, changed since, or
analysed by other model versions – in batches of ``settings.analysis_batch``, runs the pipeline
and writes each batch's results through the Store before reading the next, so memory stays
bounded by one batch however large the store is. ``redo=True`` re-analyses everything.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from vocmine.analysis.pipeline import Analyzer, SentimentBackend
from vocmine.schema import Conversation, ConversationAnalysis
from vocmine.services.encoding import encoder_for
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter, versions_key


def default_cache_path(settings: Settings) -> Path:
    if settings.embedding_cache:
        return Path(settings.embedding_cache)
    return settings.beside_store("embeddings.sqlite", "var/embeddings.sqlite")


def build_analyzer(settings: Settings, *, cache: bool = True, store: Store | None = None) -> Analyzer:
    """The analyzer the settings describe; models load lazily, on the first batch. With a store,
    new segments also get themes from the current theme model (if one was fitted)."""
    from vocmine.analysis.encoder import DEFAULT_MODEL, EmbeddingCache
    from vocmine.analysis.journey.model import DEFAULT_HEAD, JourneyHead
    from vocmine.analysis.signals.detector import SignalDetector
    from vocmine.analysis.signals.heads import DEFAULT_HEADS
    from vocmine.analysis.signals.rules import DEFAULT_RULES

    journey = JourneyHead.load(DEFAULT_HEAD if settings.journey_head == "shipped" else Path(settings.journey_head))
    heads = {"shipped": DEFAULT_HEADS, "none": None}.get(settings.signal_heads, Path(settings.signal_heads))
    signals = SignalDetector.load(
        DEFAULT_RULES if settings.signal_rules == "shipped" else Path(settings.signal_rules), heads
    )
    embedding_cache = EmbeddingCache(default_cache_path(settings)) if cache else None
    encoder = None
    sentiment: SentimentBackend
    if settings.sentiment_model == "shipped":
        from vocmine.analysis.sentiment.model import SentimentModel

        sentiment = SentimentModel(
            int8=settings.sentiment_int8,
            backend=settings.encoder_backend,
            device=settings.device,
            precision=settings.encoder_precision,
        )
        if settings.encoder != DEFAULT_MODEL:
            # The shipped sentiment layers sit on MiniLM; another encoder means two passes.
            encoder = encoder_for(settings)
            sentiment.shares_encoder = False
    else:
        from vocmine.analysis.sentiment.hf import HuggingFaceSentiment

        sentiment = HuggingFaceSentiment(settings.sentiment_model)
        encoder = encoder_for(settings)
    themes = None
    if store is not None:
        from vocmine.services.themes import LiveThemes

        themes = LiveThemes(settings, store)
    return Analyzer(
        sentiment,
        journey,
        signals,
        encoder=encoder,
        cache=embedding_cache,
        themes=themes,
        languages=frozenset(settings.model_languages),
    )


@dataclass
class AnalyzeReport:
    conversations: int = 0
    segments: int = 0
    encoded: int = 0
    cached: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    sentiments: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    seconds_by_step: dict[str, float] = field(default_factory=dict)
    model_versions: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "segments": self.segments,
            "texts_encoded": self.encoded,
            "texts_from_cache": self.cached,
            "sentiment": dict(self.sentiments.most_common()),
            "stages": dict(self.stages.most_common()),
            "flags": dict(self.flags.most_common()),
            "seconds": round(self.seconds, 1),
            "seconds_by_step": {step: round(value, 2) for step, value in self.seconds_by_step.items()},
            "model_versions": self.model_versions,
        }


def _by_id(store: Store, ids: Collection[str], batch_size: int) -> Iterator[Conversation]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), batch_size):
        chunk = ordered[start : start + batch_size]
        found = store.get_conversations(chunk)
        yield from (found[i] for i in chunk if i in found)  # one deleted meanwhile is skipped


def analyze_store(
    store: Store,
    analyzer: Analyzer,
    *,
    batch_size: int = 128,
    filter: ConversationFilter | None = None,
    redo: bool = False,
    ids: Collection[str] | None = None,
    source: Iterable[Conversation] | None = None,
    on_batch: Callable[[int], None] | None = None,
    on_results: Callable[[list[tuple[Conversation, ConversationAnalysis]]], None] | None = None,
) -> AnalyzeReport:
    """Analyse what needs it (or everything with ``redo``) and write the results; ``on_batch`` gets
    the number of conversations each written batch held, ``on_results`` the batch's conversations
    with their analyses (alerts use it). ``ids``: analyse exactly these conversations (an upload
    job's own), whatever else is pending; ``filter`` and ``redo`` are then not used. ``source``: analyse
    what it gives instead (one part of the pending conversations, for scale-out analysis)."""
    started = time.perf_counter()
    report = AnalyzeReport(model_versions=analyzer.model_versions)
    key = versions_key(report.model_versions)
    if source is None and ids is not None:
        source = _by_id(store, ids, batch_size)
    elif source is None:
        source = store.iter_conversations(filter) if redo else store.iter_unanalysed(key, filter)
    before = (analyzer.counters.encoded, analyzer.counters.cached, dict(analyzer.counters.seconds_by_step))
    writing = reading = 0.0
    clock = time.perf_counter()
    for batch in _batches(iter(source), batch_size):
        reading += time.perf_counter() - clock
        results = analyzer.analyse(batch)
        clock = time.perf_counter()
        store.write_analyses([a for a, _ in results], [v for _, v in results])
        writing += time.perf_counter() - clock
        if on_results:
            on_results([(c, a) for c, (a, _) in zip(batch, results, strict=True)])
        for analysis, _ in results:
            report.conversations += 1
            report.segments += len(analysis.segments)
            report.flags.update(f.signal for f in analysis.flags)
            report.sentiments[analysis.sentiment.label if analysis.sentiment else "none"] += 1
            report.stages[analysis.stage] += 1
        if on_batch:
            on_batch(len(batch))
        clock = time.perf_counter()
    report.encoded = analyzer.counters.encoded - before[0]
    report.cached = analyzer.counters.cached - before[1]
    report.seconds_by_step = {
        "reading the store": reading,
        **{step: value - before[2].get(step, 0.0) for step, value in analyzer.counters.seconds_by_step.items()},
        "writing the store": writing,
    }
    report.seconds = time.perf_counter() - started
    return report


def _batches(items: Iterator[Conversation], size: int) -> Iterator[list[Conversation]]:
    while batch := list(islice(items, size)):
        yield batch

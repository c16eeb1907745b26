"""Aggregation bodies for the Elasticsearch backend: what trends, emerging themes, priorities,
drivers, coaching views, facets and stats read. Built with ``elasticsearch.dsl`` (unknown
aggregation names are refused) and checked in the tests against Elasticsearch's request schema.

Counting rules match the embedded store (``the embedded store's sqlite/themes.py``): per theme, conversations are
counted once (``cardinality`` of the conversation id: exact below its precision threshold of
40,000 per bucket, within a few percent above) and segments each; flag counts run over those
conversations, split by their most severe flag so ``severity_sum`` needs no per-conversation
buckets. Groups with no value come back as ``MISSING`` and are read as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elasticsearch.dsl import A, Q, Search
from elasticsearch.dsl.aggs import Agg
from elasticsearch.dsl.query import Query

from vocmine.store.elastic.queries import filter_queries
from vocmine.store.query import BREAKDOWN_FIELDS, AgentGrouping, Breakdown, ConversationFilter, Interval
from vocmine.store.zones import zone, zone_name

MISSING = "(none)"

ANALYSED = Q("exists", field="versions_key")
_PRECISION = 40_000


def _filtered(f: ConversationFilter, *extra: Query, segments: bool = False) -> Search:
    search = Search().extra(size=0)
    for clause in [*filter_queries(f, segments=segments), *extra]:
        search = search.filter(clause)
    return search


def _histogram(interval: Interval, tz: str | None = None) -> Agg:
    # Weeks start on Monday in Elasticsearch's calendar, as in the embedded store; keys as ISO dates.
    # Buckets start at midnight in ``tz`` (Elasticsearch's own time_zone handling, summer time included).
    options: dict[str, Any] = {"time_zone": zone_name(zone(tz))} if zone(tz) is not None else {}
    return A(
        "date_histogram",
        field="started_at",
        calendar_interval=interval,
        min_doc_count=1,
        format="yyyy-MM-dd",
        **options,
    )


def _wrap(inner: Agg, interval: Interval | None, breakdown: Breakdown | None, tz: str | None = None) -> Agg:
    """inner, nested under breakdown terms and then under a date histogram when asked."""
    outer = inner
    if breakdown:
        outer = A("terms", field=BREAKDOWN_FIELDS[breakdown], size=1_000, missing=MISSING)
        outer.bucket("inner", inner)
    if interval:
        histogram = _histogram(interval, tz)
        histogram.bucket("inner", outer)
        outer = histogram
    return outer


def reported_themes(theme_map: Mapping[str, str]) -> dict[str, list[str]]:
    """Reported id → the segment theme ids that count for it, in the order the filters are sent."""
    grouped: dict[str, list[str]] = {}
    for theme_id, reported in sorted(theme_map.items()):
        grouped.setdefault(reported, []).append(theme_id)
    return dict(sorted(grouped.items()))


def theme_aggregation_body(
    f: ConversationFilter,
    interval: Interval | None = None,
    breakdown: Breakdown | None = None,
    theme_map: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """Per theme (× bucket × group) over the segment index: segments, conversations, sentiment sum,
    negative segments, and conversations per most-severe-flag level. With ``theme_map``, per
    reported id: one named filter per id, so a conversation counts once for it however many of its
    themes map there."""
    if theme_map is not None:
        groups = reported_themes(theme_map) or {"": []}  # an empty map reports nothing
        per_theme = A("filters", filters={name: Q("terms", theme_id=ids) for name, ids in groups.items()})
    else:
        per_theme = A("terms", field="theme_id", size=10_000)
    per_theme.metric("conversations", "cardinality", field="conversation_id", precision_threshold=_PRECISION)
    per_theme.metric("sentiment_sum", "sum", field="sentiment_score")
    per_theme.bucket("negative", "filter", filter=Q("term", segment_sentiment={"value": "negative"}))
    severity = per_theme.bucket("severity", "terms", field="max_severity", size=10)
    severity.metric("conversations", "cardinality", field="conversation_id", precision_threshold=_PRECISION)
    search = _filtered(f, segments=True)
    search.aggs.bucket("result", _wrap(per_theme, interval, breakdown, tz))
    return search.to_dict()


def totals_body(
    f: ConversationFilter, interval: Interval | None = None, breakdown: Breakdown | None = None, tz: str | None = None
) -> dict[str, Any]:
    """Analysed conversations per bucket and group (the denominators of theme shares)."""
    search = _filtered(f, ANALYSED)
    if interval or breakdown:
        # The innermost level only counts documents: a terms level (or the histogram alone).
        if breakdown:
            inner = A("terms", field=BREAKDOWN_FIELDS[breakdown], size=1_000, missing=MISSING)
            outer = inner
            if interval:
                outer = _histogram(interval, tz)
                outer.bucket("inner", inner)
        elif interval:
            outer = _histogram(interval, tz)
        search.aggs.bucket("result", outer)
    return search.extra(track_total_hits=True).to_dict()


def scores_body(f: ConversationFilter, interval: Interval | None = None, tz: str | None = None) -> dict[str, Any]:
    """Per bucket: every matching conversation (analysed or not), the sentiment labels of the analysed
    ones, and the survey answers (NPS promoters 9–10, detractors 0–6; CSAT count and sum)."""
    metrics = A("filter", filter=Q("match_all"))
    analysed = metrics.bucket("analysed", "filter", filter=ANALYSED)
    analysed.bucket("sentiment", "terms", field="sentiment_label", size=10)
    metrics.metric("nps_responses", "value_count", field="nps")
    metrics.bucket("promoters", "filter", filter=Q("range", nps={"gte": 9}))
    metrics.bucket("detractors", "filter", filter=Q("range", nps={"lte": 6}))
    metrics.metric("csat_responses", "value_count", field="csat")
    metrics.metric("csat_sum", "sum", field="csat")
    search = _filtered(f)
    if interval:
        histogram = _histogram(interval, tz)
        histogram.bucket("inner", metrics)
        search.aggs.bucket("result", histogram)
    else:
        search.aggs.bucket("result", metrics)
    return search.to_dict()


def agents_body(by: AgentGrouping, f: ConversationFilter, interval: Interval | None = None) -> dict[str, Any]:
    """Per agent or team (× bucket): conversations, sentiment, trajectories, flags."""
    field = BREAKDOWN_FIELDS[by]
    metrics = A("filter", filter=Q("match_all"))
    metrics.metric("sentiment_sum", "sum", field="sentiment_score")
    metrics.metric("with_sentiment", "value_count", field="sentiment_score")
    metrics.metric("with_trajectory", "value_count", field="trajectory")
    metrics.bucket("improved", "filter", filter=Q("term", trajectory={"value": "improved"}))
    metrics.bucket("worsened", "filter", filter=Q("term", trajectory={"value": "worsened"}))
    metrics.bucket("flagged", "filter", filter=Q("range", max_severity={"gt": 0}))
    per = A("terms", field=field, size=10_000)
    if interval:
        histogram = _histogram(interval)
        histogram.bucket("inner", metrics)
        per.bucket("inner", histogram)
    else:
        per.bucket("inner", metrics)
    search = _filtered(f, ANALYSED, Q("exists", field=field))
    search.aggs.bucket("result", per)
    return search.to_dict()


def facets_body(query: dict[str, Any] | None) -> dict[str, Any]:
    """Counts by channel, sentiment, stage and signal over what ``query`` (a search's query clause)
    matches."""
    search = Search().extra(size=0)
    search = search.query(Q(query)) if query else search
    for name, field in (
        ("channel", "channel"),
        ("sentiment", "sentiment_label"),
        ("stage", "stage"),
        ("signal", "signals"),
    ):
        search.aggs.bucket(name, "terms", field=field, size=100)
    return search.to_dict()


def stats_body(f: ConversationFilter) -> dict[str, Any]:
    search = _filtered(f).extra(track_total_hits=True)
    search.aggs.metric("turns", "sum", field="turn_count")
    search.aggs.metric("customer_turns", "sum", field="customer_turn_count")
    search.aggs.bucket("with_survey", "filter", filter=Q("term", has_survey={"value": True}))
    search.aggs.metric("first", "min", field="started_at")
    search.aggs.metric("last", "max", field="started_at")
    for name in ("channel", "source", "language"):
        search.aggs.bucket(name, "terms", field=name, size=1_000, missing="unknown")
    return search.to_dict()


def analysis_stats_body(f: ConversationFilter) -> dict[str, Any]:
    search = _filtered(f).extra(track_total_hits=True)
    analysed = search.aggs.bucket("analysed", "filter", filter=ANALYSED)
    analysed.bucket("stale", "filter", filter=Q("term", analysis_stale={"value": True}))
    for name, field in (("sentiment", "sentiment_label"), ("stage", "stage"), ("trajectory", "trajectory")):
        analysed.bucket(name, "terms", field=field, size=100, missing="none")
    analysed.bucket("signal", "terms", field="signals", size=100)
    versions = analysed.bucket("versions", "terms", field="versions_key", size=1_000)
    versions.metric("example", "top_hits", size=1, _source={"includes": ["analysis_doc.model_versions"]})
    return search.to_dict()


def latest_start_body(f: ConversationFilter) -> dict[str, Any]:
    search = _filtered(f)
    search.aggs.metric("latest", "max", field="started_at")
    return search.to_dict()

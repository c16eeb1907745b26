"""Trends, emerging themes, key drivers and priorities on aggregates built by hand, where the right
answer is known."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy.stats import binomtest

from vocmine.insights.drivers import key_drivers
from vocmine.insights.emerging import Window, emerging_themes
from vocmine.insights.priorities import WEIGHTS, priorities
from vocmine.insights.trends import bucket_range, theme_trends
from vocmine.store.query import ConversationTotal, SurveyTable, SurveyThemes, ThemeAggregate


def agg(theme: str, bucket: str | None, conversations: int, **kw: float) -> ThemeAggregate:
    values = {
        "segments": conversations,
        "sentiment_sum": 0.0,
        "negative_segments": 0,
        "flagged_conversations": 0,
        "severity_sum": 0,
    }
    values.update(kw)
    return ThemeAggregate(theme_id=theme, bucket=bucket, conversations=conversations, **values)  # type: ignore[arg-type]


def test_trends_fill_quiet_buckets_and_compute_shares() -> None:
    totals = [ConversationTotal(bucket=b, conversations=100) for b in ("2026-08-31", "2026-09-07", "2026-09-14")]
    aggregates = [
        agg("t1", "2026-08-31", 10, segments=20, sentiment_sum=-10.0, negative_segments=15),
        agg("t1", "2026-09-14", 30, segments=30, sentiment_sum=6.0, negative_segments=3),
    ]
    points = theme_trends(aggregates, totals, "week")
    assert [(p.bucket, p.conversations, p.share) for p in points] == [
        ("2026-08-31", 10, 0.1),
        ("2026-09-07", 0, 0.0),
        ("2026-09-14", 30, 0.3),
    ]
    assert points[0].mean_sentiment == -0.5 and points[0].negative_share == 0.75
    assert points[1].mean_sentiment is None
    assert bucket_range(["2026-01-01", "2026-03-01"], "month") == ["2026-01-01", "2026-02-01", "2026-03-01"]


def test_trends_fill_empty_buckets_and_mark_partial_ones() -> None:
    from datetime import UTC, datetime

    # No conversation at all in the week of 09-07; the filter starts mid-week and the last week is
    # still running.
    totals = [ConversationTotal(bucket=b, conversations=100) for b in ("2026-08-31", "2026-09-14")]
    aggregates = [agg("t1", "2026-08-31", 10), agg("t1", "2026-09-14", 30)]
    points = theme_trends(
        aggregates,
        totals,
        "week",
        since=datetime(2026, 9, 2),  # no zone: read as UTC
        until=datetime(2026, 9, 28, tzinfo=UTC),
        now=datetime(2026, 9, 17, 12, tzinfo=UTC),
    )
    assert [(p.bucket, p.conversations, p.total_conversations, p.partial) for p in points] == [
        ("2026-08-31", 10, 100, True),  # starts before since
        ("2026-09-07", 0, 0, False),  # empty, but a point: the line does not skip it
        ("2026-09-14", 30, 100, True),  # not over yet
        ("2026-09-21", 0, 0, True),  # up to until (exclusive: 09-28 is not included), in the future
    ]


def test_partial_buckets_are_judged_at_midnight_in_the_readers_time_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    # The filter starts at 22:00 UTC on 1 Sept: midnight on 2 Sept in Athens (UTC+3), so Athens's
    # day of 2 Sept is whole while UTC's day of 1 Sept is not.
    since = datetime(2026, 9, 1, 21, tzinfo=UTC)
    until = datetime(2026, 9, 3, 21, tzinfo=UTC)
    now = datetime(2026, 10, 1, tzinfo=UTC)
    totals = [ConversationTotal(bucket=b, conversations=5) for b in ("2026-09-02", "2026-09-03")]
    aggregates = [agg("t1", "2026-09-02", 1), agg("t1", "2026-09-03", 2)]
    athens = theme_trends(aggregates, totals, "day", since=since, until=until, now=now, tz=ZoneInfo("Europe/Athens"))
    assert [(p.bucket, p.partial) for p in athens] == [("2026-09-02", False), ("2026-09-03", False)]
    in_utc = theme_trends(aggregates, totals, "day", since=since, until=until, now=now)
    assert [(p.bucket, p.partial) for p in in_utc] == [
        ("2026-09-01", True),  # from 21:00 only
        ("2026-09-02", False),
        ("2026-09-03", True),  # up to 21:00 only
    ]


WINDOW = Window(date(2026, 9, 1), date(2026, 9, 29), date(2026, 10, 6))


def _daily(recent: dict[str, int], baseline: dict[str, int]):
    aggregates = [agg(t, "2026-09-02", n) for t, n in baseline.items() if n]
    aggregates += [agg(t, "2026-09-30", n) for t, n in recent.items() if n]
    totals = [
        ConversationTotal(bucket="2026-09-02", conversations=4000),
        ConversationTotal(bucket="2026-09-30", conversations=1000),
    ]
    return aggregates, totals


def test_rising_theme_is_emerging_with_its_statistic_and_a_flat_one_is_not() -> None:
    aggregates, totals = _daily(
        {"rising": 40, "flat": 50, "fresh": 12, "rare": 2}, {"rising": 40, "flat": 200, "fresh": 0, "rare": 0}
    )
    found = {e.theme_id: e for e in emerging_themes(aggregates, totals, WINDOW)}
    rising = found["rising"]
    assert rising.emerging and not rising.new
    assert rising.rate_ratio == pytest.approx((40.5 / 1000) / (40.5 / 4000))
    assert rising.p_value == pytest.approx(binomtest(40, 80, 0.2, alternative="greater").pvalue)
    assert rising.q_value >= rising.p_value
    assert not found["flat"].emerging
    assert found["fresh"].emerging and found["fresh"].new
    assert not found["rare"].emerging  # below the minimum count, however new


def test_every_themes_p_value_is_the_one_sided_binomial_test() -> None:
    from vocmine.insights.emerging import _p_values

    recent = np.array([0, 0, 1, 3, 12, 40, 500, 7])
    baseline = np.array([0, 9, 0, 30, 4, 40, 2000, 0])
    found = _p_values(recent, baseline, 0.2)
    expected = [
        1.0 if r == 0 else binomtest(int(r), int(r + b), 0.2, alternative="greater").pvalue
        for r, b in zip(recent, baseline, strict=True)
    ]
    assert found == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_bh_correction_is_applied_over_all_themes() -> None:
    recent = {f"t{i}": 10 for i in range(20)}
    baseline = {f"t{i}": 25 for i in range(20)}
    recent["t0"] = 22
    aggregates, totals = _daily(recent, baseline)
    found = {e.theme_id: e for e in emerging_themes(aggregates, totals, WINDOW)}
    assert found["t0"].q_value == pytest.approx(min(1.0, found["t0"].p_value * 20))


def _survey(n_with: int, n_without: int, nps_with: int, nps_without: int) -> SurveyTable:
    rows = [SurveyThemes(conversation_id=f"w{i}", nps=nps_with, csat=None, themes=["bad"]) for i in range(n_with)]
    rows += [
        SurveyThemes(conversation_id=f"o{i}", nps=nps_without, csat=None, themes=["other"]) for i in range(n_without)
    ]
    return SurveyTable.from_rows(rows)


def test_drivers_measure_a_known_drag_on_nps_with_intervals() -> None:
    # 100 detractors mention "bad"; 300 promoters do not: NPS = (300 - 100) / 400 = 50.
    report = key_drivers(_survey(100, 300, 2, 10), "nps", resamples=300)
    assert report.score == 50.0
    bad = next(d for d in report.drivers if d.theme_id == "bad")
    assert bad.removal_impact is not None and bad.present_vs_absent is not None
    assert bad.removal_impact.value == -50.0  # without it NPS would be 100
    assert bad.present_vs_absent.value == -200.0
    assert bad.removal_impact.low <= -50.0 <= bad.removal_impact.high
    assert bad.removal_impact.high < 0


def test_drivers_say_not_enough_data_instead_of_a_number() -> None:
    report = key_drivers(_survey(5, 300, 2, 10), "nps", resamples=50)
    bad = next(d for d in report.drivers if d.theme_id == "bad")
    assert bad.status == "not enough data" and bad.removal_impact is None
    csat = key_drivers(SurveyTable.from_rows([SurveyThemes(conversation_id="x", nps=None, csat=5, themes=[])]), "csat")
    assert csat.score == 100.0 and csat.drivers == []


def test_priority_score_is_the_documented_formula_of_its_terms() -> None:
    window = [agg("t1", None, 100, segments=200, negative_segments=150, severity_sum=200)]
    aggregates, totals = _daily({"t1": 100}, {"t1": 100})
    growth = emerging_themes(aggregates, totals, WINDOW)
    (p,) = priorities(window, 1000, growth)
    t = p.terms
    assert t["reach"] == pytest.approx(math.sqrt(0.1), abs=1e-4)
    assert t["negativity"] == 0.75 and t["severity"] == 0.4
    assert t["growth"] == pytest.approx(min(1.0, math.log2(growth[0].rate_ratio) / 2), abs=1e-4)
    assert t["nps_impact"] is None and "nps_impact" not in p.weights
    assert sum(p.weights.values()) == pytest.approx(1.0, abs=1e-3)
    expected = 100 * t["reach"] * sum(p.weights[k] * t[k] for k in p.weights)  # type: ignore[operator]
    assert p.score == pytest.approx(expected, abs=0.01)
    nps = key_drivers(_survey(40, 300, 0, 10), "nps", resamples=50)
    (with_nps,) = priorities([agg("bad", None, 100)], 1000, [], nps)
    assert with_nps.weights == WEIGHTS and with_nps.terms["nps_impact"] == 1.0


def test_drivers_without_resamples_give_the_same_points_and_no_bounds() -> None:
    table = _survey(100, 300, 2, 10)
    with_intervals = key_drivers(table, "nps", resamples=100)
    points_only = key_drivers(table, "nps", resamples=0)
    for a, b in zip(with_intervals.drivers, points_only.drivers, strict=True):
        assert a.removal_impact is not None and b.removal_impact is not None
        assert (a.theme_id, a.present, a.removal_impact.value) == (b.theme_id, b.present, b.removal_impact.value)
        assert b.removal_impact.low is None and b.removal_impact.high is None

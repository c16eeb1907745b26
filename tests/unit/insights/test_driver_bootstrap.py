"""The drivers' intervals come from a bootstrap drawn per theme from six cell counts; they must match
the plain bootstrap that resamples conversations with replacement."""

from __future__ import annotations

import numpy as np

from vocmine.insights.drivers import key_drivers
from vocmine.store.query import SurveyTable, SurveyThemes


def _table(rng: np.random.Generator, n: int = 3000) -> SurveyTable:
    """Scores that depend on two overlapping themes (one drags NPS down, one lifts it) and a third that does not."""
    rows = []
    for i in range(n):
        themes = [t for t, share in (("billing", 0.3), ("praise", 0.2), ("app", 0.4)) if rng.random() < share]
        mean = 7.5 - 3.0 * ("billing" in themes) + 1.5 * ("praise" in themes)
        nps = int(np.clip(round(rng.normal(mean, 2.0)), 0, 10))
        csat = float(np.clip(round(nps / 2), 1, 5))
        rows.append(SurveyThemes(conversation_id=f"c{i}", nps=nps, csat=csat, themes=themes))
    return SurveyTable.from_rows(rows)


def _resampled_removal(table: SurveyTable, theme: str, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The removal impact on NPS over conversations resampled with replacement (the textbook bootstrap)."""
    column = table.themes.index(theme)
    nps, member = table.nps, table.member[:, column]
    out = np.empty(resamples)
    for r in range(resamples):
        pick = rng.integers(0, len(nps), len(nps))
        scores, present = nps[pick], member[pick]

        def score(values: np.ndarray) -> float:
            return 100.0 * (np.mean(values >= 9) - np.mean(values <= 6))

        out[r] = score(scores) - score(scores[~present])
    return out


def test_intervals_match_resampling_conversations() -> None:
    rng = np.random.default_rng(3)
    table = _table(rng)
    report = key_drivers(table, "nps", resamples=2000)
    by_theme = {d.theme_id: d for d in report.drivers}
    for theme in ("billing", "praise", "app"):
        reference = np.percentile(_resampled_removal(table, theme, 2000, rng), [2.5, 97.5])
        interval = by_theme[theme].removal_impact
        assert interval is not None and interval.low is not None and interval.high is not None
        width = reference[1] - reference[0]
        # Two Monte Carlo estimates of the same percentiles: equal within a tenth of the interval's width.
        assert abs(interval.low - reference[0]) < 0.1 * width, (theme, interval, reference)
        assert abs(interval.high - reference[1]) < 0.1 * width, (theme, interval, reference)
    # The drag and the lift come out with the sign they were given, and clear of zero.
    billing, praise = by_theme["billing"].removal_impact, by_theme["praise"].removal_impact
    assert billing is not None and billing.high is not None and billing.high < 0
    assert praise is not None and praise.low is not None and praise.low > 0


def test_csat_intervals_cover_their_point_estimate() -> None:
    table = _table(np.random.default_rng(5))
    for driver in key_drivers(table, "csat", resamples=500).drivers:
        for interval in (driver.removal_impact, driver.present_vs_absent):
            assert interval is not None and interval.low is not None and interval.high is not None
            assert interval.low <= interval.value <= interval.high

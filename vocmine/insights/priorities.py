"""Signal priorities: one transparent score per theme, every term returned beside it.

For the themes mentioned in the recent window (terms in [0, 1]):

* ``reach`` = √(share of the window's conversations that mention the theme) – volume, with the
  square root so a theme in 4% of conversations is not 4× a theme in 1% but 2×;
* ``negativity`` = share of the theme's segments labelled negative;
* ``growth`` = min(1, max(0, log2(rate ratio)) / 2): 0 when not growing, 1 at four times the
  baseline rate (rate ratio from ``emerging.py``);
* ``severity`` = mean over the theme's conversations of their most severe flag / 5;
* ``nps_impact`` = min(1, max(0, −removal impact on NPS) / 10): 1 when removing the theme's
  conversations would lift NPS by 10 points or more; only where drivers had enough data.

    score = 100 × reach × (0.35 × negativity + 0.20 × growth + 0.25 × severity + 0.20 × nps_impact)

When a theme has no NPS term (no survey scores, or not enough data) the other three weights are
scaled up to sum to 1, and ``weights`` in the result says so. Reach multiplies rather than adds so
that a handful of very negative conversations cannot outrank a theme a tenth of customers raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vocmine.insights.drivers import DriverReport
from vocmine.insights.emerging import EmergingTheme
from vocmine.store.query import ThemeAggregate

WEIGHTS = {"negativity": 0.35, "growth": 0.20, "severity": 0.25, "nps_impact": 0.20}
# The score as the API and the console state it, written from the weights so it cannot drift from them.
FORMULA = "100 × reach × (" + " + ".join(f"{weight:.2f} × {term}" for term, weight in WEIGHTS.items()) + ")"


@dataclass(frozen=True)
class Priority:
    theme_id: str
    score: float
    terms: dict[str, float | None]
    weights: dict[str, float]
    numbers: dict[str, float | int | None] = field(default_factory=dict)  # what the terms were computed from


def priorities(
    window_aggregates: list[ThemeAggregate],
    window_conversations: int,
    emerging: list[EmergingTheme],
    nps: DriverReport | None = None,
) -> list[Priority]:
    """``window_aggregates``: one aggregate per theme over the recent window (no bucket, no group)."""
    growth = {e.theme_id: e for e in emerging}
    impact = {d.theme_id: d for d in nps.drivers} if nps else {}
    out = []
    for a in window_aggregates:
        if a.conversations == 0 or window_conversations == 0:
            continue
        share = a.conversations / window_conversations
        e = growth.get(a.theme_id)
        driver = impact.get(a.theme_id)
        removal = driver.removal_impact.value if driver and driver.removal_impact else None
        terms: dict[str, float | None] = {
            "reach": math.sqrt(share),
            "negativity": a.negative_segments / a.segments if a.segments else 0.0,
            "growth": min(1.0, max(0.0, math.log2(e.rate_ratio)) / 2) if e else 0.0,
            "severity": a.severity_sum / (5 * a.conversations),
            "nps_impact": min(1.0, max(0.0, -removal) / 10) if removal is not None else None,
        }
        weights = _weights(terms["nps_impact"] is not None)
        inner = sum(weights[name] * (terms[name] or 0.0) for name in weights)
        out.append(
            Priority(
                theme_id=a.theme_id,
                score=round(100 * (terms["reach"] or 0.0) * inner, 2),
                terms={k: (round(v, 4) if v is not None else None) for k, v in terms.items()},
                weights=weights,
                numbers={
                    "conversations": a.conversations,
                    "window_conversations": window_conversations,
                    "segments": a.segments,
                    "negative_segments": a.negative_segments,
                    "rate_ratio": round(e.rate_ratio, 3) if e else None,
                    "flagged_conversations": a.flagged_conversations,
                    "nps_removal_impact": removal,
                },
            )
        )
    return sorted(out, key=lambda p: -p.score)


def _weights(with_nps: bool) -> dict[str, float]:
    if with_nps:
        return dict(WEIGHTS)
    rest = {k: v for k, v in WEIGHTS.items() if k != "nps_impact"}
    total = sum(rest.values())
    return {k: round(v / total, 4) for k, v in rest.items()}

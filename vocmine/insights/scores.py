"""Headline figures from a store's score totals (``Store.score_totals``): the sentiment shares, NPS
and mean CSAT of a bucket or of a whole period, as the API's ``/v1/scores/trends`` and the console's
overview show them."""

from __future__ import annotations

from vocmine.store.query import ScoreTotal


class ScorePoint(ScoreTotal):
    """A bucket's counts with the rates read from them; a rate is None when its denominator is zero
    (no analysed conversation, no survey answer), never 0."""

    negative_share: float | None  # of the analysed conversations
    neutral_share: float | None
    positive_share: float | None
    nps: float | None  # promoters% − detractors%, from −100 to 100
    csat: float | None  # the mean CSAT answer

    @classmethod
    def of(cls, total: ScoreTotal) -> ScorePoint:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return cls(
            **total.model_dump(),
            negative_share=share(total.negative, total.analysed),
            neutral_share=share(total.neutral, total.analysed),
            positive_share=share(total.positive, total.analysed),
            nps=round(100 * (total.promoters - total.detractors) / total.nps_responses, 2)
            if total.nps_responses
            else None,
            csat=round(total.csat_sum / total.csat_responses, 4) if total.csat_responses else None,
        )


def overall(totals: list[ScoreTotal]) -> ScorePoint:
    """The figures over every conversation (a store answers no row at all where none matches)."""
    empty = ScoreTotal(
        conversations=0, analysed=0, negative=0, neutral=0, positive=0, nps_responses=0, promoters=0,
        detractors=0, csat_responses=0, csat_sum=0.0,
    )  # fmt: skip
    return ScorePoint.of(totals[0] if totals else empty)

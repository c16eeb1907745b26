"""Agent and team coaching view: per agent (or team) and interval, conversations handled, mean
customer sentiment, how often a conversation ends better than it began (improved share of the
conversations with two or more customer turns), how often worse, and the share with any flag.

These are coaching signals, not a ranking: customers' sentiment depends on what they call about,
so compare an agent with their own past or with peers on the same queue (filter by brand, product
or channel), and read the counts before the shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocmine.store.query import AgentAggregate


@dataclass(frozen=True)
class AgentPoint:
    key: str
    bucket: str | None
    conversations: int
    mean_sentiment: float | None
    improved_share: float | None
    worsened_share: float | None
    with_trajectory: int
    flag_rate: float


def agent_view(rows: list[AgentAggregate]) -> list[AgentPoint]:
    return [
        AgentPoint(
            key=r.key,
            bucket=r.bucket,
            conversations=r.conversations,
            mean_sentiment=round(r.sentiment_sum / r.with_sentiment, 4) if r.with_sentiment else None,
            improved_share=round(r.improved / r.with_trajectory, 4) if r.with_trajectory else None,
            worsened_share=round(r.worsened / r.with_trajectory, 4) if r.with_trajectory else None,
            with_trajectory=r.with_trajectory,
            flag_rate=round(r.flagged / r.conversations, 4) if r.conversations else 0.0,
        )
        for r in rows
    ]

"""Documents for the Elasticsearch indices (``elastic_schema.py``): a conversation with what its
analysis says, and one document per analysed segment with its embedding. Pure functions, so the
tests can hold every document to the strict mappings offline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vocmine.schema import Conversation, ConversationAnalysis


def shared_fields(c: Conversation, a: ConversationAnalysis | None) -> dict[str, Any]:
    """The conversation fields both indices carry (what filters, buckets and breakdowns read)."""
    sentiment = a.sentiment if a else None
    return {
        "conversation_id": c.id,
        "channel": c.channel,
        "source": c.source,
        "language": c.language,
        "brand": c.brand,
        "product": c.product,
        "agent_id": c.agent_id,
        "team_id": c.team_id,
        "customer_id": c.customer_id,
        "account_id": c.account_id,
        "started_at": c.started_at.isoformat() if c.started_at else None,
        "sentiment_label": sentiment.label if sentiment else None,
        "stage": a.stage if a else None,
        "trajectory": sentiment.trajectory if sentiment else None,
        "max_severity": a.max_severity() if a else 0,
        "signals": sorted({f.signal for f in a.flags}) if a else [],
        "nps": c.survey.nps if c.survey else None,
        "csat": c.survey.csat if c.survey else None,
    }


def conversation_document(
    c: Conversation, a: ConversationAnalysis | None, versions_key: str | None = None
) -> dict[str, Any]:
    sentiment = a.sentiment if a else None
    return {
        **shared_fields(c, a),
        "subject": c.subject,
        # Only the customer's words are searched (agent text is kept in ``doc`` for context).
        "customer_text": "\n".join(t.text for t in c.turns if t.role == "customer"),
        "content_hash": c.content_hash(),
        "sentiment_score": sentiment.score if sentiment else None,
        "most_negative": sentiment.most_negative if sentiment else None,
        "stage_confidence": a.stage_confidence if a else None,
        "analysed_at": a.analysed_at.isoformat() if a else None,
        "versions_key": versions_key,
        "themes": sorted({s.theme_id for s in a.segments if s.theme_id}) if a else [],
        "doc": c.model_dump(mode="json"),
        "analysis_doc": a.model_dump(mode="json", exclude={"segments"}) if a else None,
    }


def segment_documents(c: Conversation, a: ConversationAnalysis, vectors: Sequence[Any]) -> list[dict[str, Any]]:
    if len(vectors) != len(a.segments):
        raise ValueError(f"{c.id}: {len(a.segments)} segments but {len(vectors)} vectors")
    shared = shared_fields(c, a)
    return [
        {
            **shared,
            "segment_id": s.id,
            "position": position,
            "turn_index": s.turn_index,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "segment_sentiment": s.sentiment,
            "sentiment_score": s.sentiment_score,
            "segment_stage": s.stage,
            "theme_id": s.theme_id,
            "vector": [float(x) for x in vector],
        }
        for position, (s, vector) in enumerate(zip(a.segments, vectors, strict=True))
    ]


def bulk_operations(index: str, documents: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The ``operations`` of a ``_bulk`` request: an ``index`` action (an upsert by id: re-sending a
    document replaces it, so a retried batch is idempotent) followed by the document, per item."""
    operations: list[dict[str, Any]] = []
    for doc_id, document in documents:
        operations.append({"index": {"_index": index, "_id": doc_id}})
        operations.append(document)
    return operations

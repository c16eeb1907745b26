"""Documents for the Elasticsearch indices (``schema.py``): a conversation with what its
analysis says, and one document per analysed segment with its embedding. Pure functions, so the
tests can hold every document to the strict mappings offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    survey = c.survey
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
        "segment_ids": [s.id for s in a.segments] if a else [],
        "analysis_content_hash": a.content_hash if a else None,
        "analysis_stale": (a.content_hash != c.content_hash()) if a else False,
        "turn_keys": [t.key for t in c.turns if t.key],
        "turn_count": len(c.turns),
        "customer_turn_count": len(c.customer_turns()),
        "has_survey": bool(survey and (survey.nps is not None or survey.csat is not None or survey.ces is not None)),
        "review_status": "new",
        "review_assignee": None,
        "doc": c.model_dump(mode="json"),
        "analysis_doc": a.model_dump(mode="json", exclude={"segments"}) if a else None,
    }


def segment_documents(c: Conversation, a: ConversationAnalysis, vectors: Sequence[Any] | None) -> list[dict[str, Any]]:
    """One document per segment; ``vectors`` None stores segments without embeddings (they are then
    left out of semantic search and theme fits, as in the embedded store)."""
    if vectors is not None and len(vectors) != len(a.segments):
        raise ValueError(f"{c.id}: {len(a.segments)} segments but {len(vectors)} vectors")
    shared = shared_fields(c, a)
    documents = [
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
            "stage_confidence": s.stage_confidence,
            "theme_id": s.theme_id,
        }
        for position, s in enumerate(a.segments)
    ]
    if vectors is not None:
        for document, vector in zip(documents, vectors, strict=True):
            document["vector"] = [float(x) for x in vector]
    return documents


@dataclass(frozen=True)
class BulkAction:
    """One item of a ``_bulk`` request other than a plain upsert: ``create`` (fails with 409 if the
    id exists), ``index`` guarded by the sequence number read before (fails with 409 if someone
    wrote in between), a partial ``update`` (``body`` is the changed fields), or ``delete``."""

    op: Literal["index", "create", "update", "delete"]
    body: dict[str, Any] | None = None
    if_seq_no: int | None = None
    if_primary_term: int | None = None


BulkItem = tuple[str, "dict[str, Any] | BulkAction"]


def bulk_operations(index: str, documents: Sequence[BulkItem]) -> list[dict[str, Any]]:
    """The ``operations`` of a ``_bulk`` request. A plain ``(id, document)`` is an ``index`` action
    (an upsert by id: re-sending a document replaces it, so a retried batch is idempotent); a
    ``BulkAction`` says what else to do."""
    operations: list[dict[str, Any]] = []
    for doc_id, item in documents:
        action = item if isinstance(item, BulkAction) else BulkAction("index", item)
        meta: dict[str, Any] = {"_index": index, "_id": doc_id}
        if action.if_seq_no is not None:
            meta["if_seq_no"] = action.if_seq_no
            meta["if_primary_term"] = action.if_primary_term
        operations.append({action.op: meta})
        if action.op == "update":
            operations.append({"doc": action.body})
        elif action.op != "delete":
            operations.append(action.body or {})
    return operations

"""Copy one store into another (``vocmine reindex --from sqlite:///… --to https://…``): what moves
a team from the embedded store to Elasticsearch, or into new indices, without re-running models.

Copied: conversations, their analyses with segment embeddings and themes, the theme catalog and its
current version, API keys (their hashes: keys keep working), alert rules and delivery records, and
review state (status, assignee, loop closed, notes, label corrections). Reviews are replayed through
the target's review methods, so the target's audit trail records the copy (with the original
reviewers as actors) rather than the original timestamps. Writes are upserts by id: running the copy
again after an interruption redoes what was partly written and leaves the rest unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vocmine.schema import ReviewState
from vocmine.store.protocol import Store
from vocmine.store.query import ReviewQuery

BATCH = 500
# How to reach each review status from "new" through the allowed moves (REVIEW_TRANSITIONS).
_PATHS = {"new": [], "in_review": ["in_review"], "resolved": ["in_review", "resolved"], "dismissed": ["dismissed"]}


@dataclass
class ReindexReport:
    conversations: int = 0
    analyses: int = 0
    segments_without_vector: int = 0
    themes: int = 0
    api_keys: int = 0
    alert_rules: int = 0
    deliveries: int = 0
    reviews: int = 0
    notes: list[str] = field(default_factory=list)


def reindex(source: Store, target: Store, progress: Callable[[int], None] = lambda n: None) -> ReindexReport:
    report = ReindexReport()
    batch = []
    for conversation in source.iter_conversations():
        batch.append(conversation)
        if len(batch) >= BATCH:
            _copy_batch(source, target, batch, report)
            progress(len(batch))
            batch = []
    if batch:
        _copy_batch(source, target, batch, report)
        progress(len(batch))
    version = source.themes_version()
    themes = source.list_themes()
    if version and themes:
        target.replace_themes(themes, version)
        report.themes = len(themes)
    _copy_keys(source, target, report)
    for rule in source.list_alert_rules():
        target.save_alert_rule(rule)
        report.alert_rules += 1
    for delivery in source.list_deliveries():
        keys = ("rule_id", "conversation_id", "status", "attempts", "error")
        target.record_delivery(*(delivery[k] for k in keys))
        report.deliveries += 1
    _copy_reviews(source, target, report)
    return report


def _copy_batch(source: Store, target: Store, batch: list, report: ReindexReport) -> None:  # type: ignore[type-arg]
    target.upsert_conversations(batch)
    report.conversations += len(batch)
    analyses = source.get_analyses([c.id for c in batch])
    if not analyses:
        return
    wanted = [s.id for a in analyses.values() for s in a.segments]
    vectors = source.get_segment_vectors(wanted)
    matrices: list[np.ndarray | None] = []
    for analysis in analyses.values():
        rows = [vectors.get(s.id) for s in analysis.segments]
        if analysis.segments and all(row is not None for row in rows):
            matrices.append(np.stack([row for row in rows if row is not None]))
        else:
            # Some segment has no embedding: store the analysis without vectors rather than lose it.
            report.segments_without_vector += sum(row is None for row in rows)
            matrices.append(None)
    target.write_analyses(list(analyses.values()), matrices)
    report.analyses += len(analyses)


def _copy_keys(source: Store, target: Store, report: ReindexReport) -> None:
    existing = {k.id for k in target.list_api_keys()}
    for key in source.list_api_keys():
        found = source.find_api_key(key.id)
        if found is None or key.id in existing:
            continue
        target.add_api_key(found[0], found[1])
        if found[0].revoked_at is not None:
            target.revoke_api_key(key.id)
        report.api_keys += 1


def _copy_reviews(source: Store, target: Store, report: ReindexReport) -> None:
    cursor = None
    while True:
        page = source.review_queue(ReviewQuery(min_severity=0, limit=BATCH, cursor=cursor))
        for item in page.items:
            if item.revision:
                _replay(target, source.get_review(item.conversation_id))
                report.reviews += 1
        cursor = page.next_cursor
        if cursor is None:
            return


def _replay(target: Store, review: ReviewState) -> None:
    current = target.get_review(review.conversation_id)
    if current.revision:
        return  # copied by an earlier run
    actor = review.assignee or "reindex"
    for note in review.notes:
        target.add_review_note(review.conversation_id, note.author, note.text)
    for correction in review.corrections:
        target.add_label_correction(review.conversation_id, correction.author or actor, correction)
    for status in _PATHS[review.status]:
        target.update_review(review.conversation_id, actor, status=status)
    if review.assignee or review.loop_closed:
        target.update_review(
            review.conversation_id, actor, assignee=review.assignee, loop_closed=review.loop_closed or None
        )

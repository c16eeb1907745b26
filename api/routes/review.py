"""The review queue for quality teams: flagged conversations by severity, assignment, status
(new → in_review → resolved | dismissed), notes, closing the loop with the customer, label
corrections kept as feedback, and the audit trail. Every write may carry the ``revision`` the
caller saw: a stale one is a 409, not a silent overwrite."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vocmine.schema import ApiKey, LabelCorrection, ReviewState, ReviewStatus
from vocmine.services import review
from vocmine.services.review import correct_label
from vocmine.store.query import ReviewPage, ReviewQuery
from vocmine_api.deps import (
    FilterDep,
    SettingsDep,
    StoreDep,
    check_page_size,
    require,
)
from vocmine_api.routes.themes import NOT_FOUND
from vocmine_api.schemas import ErrorResponse

router = APIRouter(prefix="/v1/review", tags=["review"])
RESPONSES: dict[int | str, dict[str, Any]] = {**NOT_FOUND, 409: {"model": ErrorResponse}}
Reviewer = Annotated[ApiKey, Depends(require("review"))]


def _actor(key: ApiKey) -> str:
    return f"key:{key.id} ({key.name})"


class AssignRequest(BaseModel):
    assignee: str | None = Field(default=None, max_length=200, description="null to unassign")
    revision: int | None = None


class StatusRequest(BaseModel):
    status: ReviewStatus
    revision: int | None = None


class NoteRequest(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class LoopRequest(BaseModel):
    closed: bool = True
    revision: int | None = None


class CorrectionRequest(BaseModel):
    field: str = Field(pattern="^(sentiment|stage|theme)$")
    value: str = Field(min_length=1, max_length=200)
    segment_id: str | None = Field(default=None, max_length=300)


class AuditEvent(BaseModel):
    at: str
    actor: str
    conversation_id: str
    action: str
    detail: dict[str, Any]


@router.get("/queue", response_model=ReviewPage, responses=RESPONSES)
def queue(
    _: Reviewer,
    store: StoreDep,
    settings: SettingsDep,
    filter: FilterDep,
    status: Annotated[list[ReviewStatus], Query()] = [],  # noqa: B006
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    min_severity: Annotated[int, Query(ge=1, le=5, description="flags at least this severe")] = 1,
    limit: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ReviewPage:
    """Flagged conversations, most severe first, then newest."""
    check_page_size(limit, settings)
    query = ReviewQuery(
        filter=filter, statuses=status, assignee=assignee, min_severity=min_severity, limit=limit, cursor=cursor
    )
    return store.review_queue(query)


@router.get("/{conversation_id}", response_model=ReviewState, responses=RESPONSES)
def get_review(conversation_id: str, _: Reviewer, store: StoreDep) -> ReviewState:
    """The review state with its notes and corrections."""
    return store.get_review(conversation_id)


@router.post("/{conversation_id}/assign", response_model=ReviewState, responses=RESPONSES)
def assign(conversation_id: str, body: AssignRequest, key: Reviewer, store: StoreDep) -> ReviewState:
    return store.update_review(
        conversation_id,
        _actor(key),
        assignee=body.assignee,
        unassign=body.assignee is None,
        expected_revision=body.revision,
    )


@router.post("/{conversation_id}/status", response_model=ReviewState, responses=RESPONSES)
def set_status(conversation_id: str, body: StatusRequest, key: Reviewer, store: StoreDep) -> ReviewState:
    """Move the review: new → in_review → resolved | dismissed (closed reviews can be reopened)."""
    return store.update_review(conversation_id, _actor(key), status=body.status, expected_revision=body.revision)


@router.post("/{conversation_id}/notes", response_model=ReviewState, responses=RESPONSES)
def add_note(
    conversation_id: str, body: NoteRequest, key: Reviewer, store: StoreDep, settings: SettingsDep
) -> ReviewState:
    """A note on the review; personal data in it is redacted like the conversation's."""
    return review.add_note(store, settings, conversation_id, _actor(key), body.text)


@router.post("/{conversation_id}/loop-closed", response_model=ReviewState, responses=RESPONSES)
def loop_closed(conversation_id: str, body: LoopRequest, key: Reviewer, store: StoreDep) -> ReviewState:
    """Record that the customer was contacted and the issue closed with them (or undo it)."""
    return store.update_review(conversation_id, _actor(key), loop_closed=body.closed, expected_revision=body.revision)


@router.post("/{conversation_id}/corrections", response_model=ReviewState, responses=RESPONSES)
def correct(conversation_id: str, body: CorrectionRequest, key: Reviewer, store: StoreDep) -> ReviewState:
    """Correct a wrong sentiment, stage or theme; kept as feedback for evaluation and retraining."""
    correction = LabelCorrection(field=body.field, value=body.value, segment_id=body.segment_id)
    return correct_label(store, conversation_id, _actor(key), correction)


@router.get("/{conversation_id}/audit", response_model=list[AuditEvent], responses=RESPONSES)
def audit(conversation_id: str, _: Reviewer, store: StoreDep) -> list[AuditEvent]:
    """Who did what and when, oldest first."""
    store.get_review(conversation_id)  # 404 for an unknown conversation
    return [AuditEvent(**event) for event in store.review_events(conversation_id)]

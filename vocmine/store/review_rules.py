"""The review workflow's rules, which every backend applies the same way before it writes."""

from __future__ import annotations

from typing import Any

from vocmine.errors import ConflictError
from vocmine.schema import REVIEW_TRANSITIONS, ReviewState, utcnow


def review_changes(
    current: ReviewState,
    *,
    status: str | None,
    assignee: str | None,
    unassign: bool,
    loop_closed: bool | None,
    expected_revision: int | None,
) -> dict[str, Any]:
    """What ``update_review`` changes (field → new value, ``loop_closed_at`` as a datetime), the same
    rules in every backend: ConflictError on a stale revision or a move REVIEW_TRANSITIONS forbids."""
    if expected_revision is not None and expected_revision != current.revision:
        raise ConflictError(
            f"the review of {current.conversation_id} changed since revision {expected_revision} "
            f"(now {current.revision})",
            hint="reload it and apply your change again",
        )
    changes: dict[str, Any] = {}
    if status is not None and status != current.status:
        if status not in REVIEW_TRANSITIONS[current.status]:
            allowed = ", ".join(sorted(REVIEW_TRANSITIONS[current.status]))
            raise ConflictError(f"a {current.status} review cannot become {status}", hint=f"from here: {allowed}")
        changes["status"] = status
    if unassign and current.assignee is not None:
        changes["assignee"] = None
    elif assignee is not None and assignee != current.assignee:
        changes["assignee"] = assignee
    if loop_closed is not None and loop_closed != current.loop_closed:
        changes["loop_closed"] = loop_closed
        changes["loop_closed_at"] = utcnow() if loop_closed else None
    return changes

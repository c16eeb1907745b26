"""The review queue for quality teams: flagged conversations, most severe first, each with its
reasons and evidence; an item page to assign, move the status, add notes and close the loop with
the customer, with the audit trail. The writes call what ``/v1/review`` calls, with the signed-in
person as the actor, and send the revision the page showed: a stale one answers 409 with the
review as it is now, never a silent overwrite.

Working through many items: the queue's filters and the item's position travel in the item page's
URL, so "next in queue" (key ``]``) finds the item after this one, even once this one has left the
queue (resolved, or assigned away from "unassigned")."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from vocmine.analysis.signals.heads import SIGNALS
from vocmine.errors import ConflictError
from vocmine.schema import REVIEW_TRANSITIONS, ConversationAnalysis, Evidence, ReviewState, ReviewStatus
from vocmine.services import review
from vocmine.store.protocol import Store
from vocmine.store.query import ReviewQuery
from vocmine_api.console.filters import LISTS, Filters, FiltersDep
from vocmine_api.console.people import ConsoleError, Person, viewer, writer
from vocmine_api.console.render import page
from vocmine_api.deps import SettingsDep, StoreDep

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Person, Depends(viewer("review"))]
ReviewWriter = Annotated[Person, Depends(writer("review"))]

PAGE_SIZE = 25
STATUSES: tuple[ReviewStatus, ...] = ("new", "in_review", "resolved", "dismissed")
# The status select: a name → the statuses it shows ("open" is the default: what is left to do).
STATUS_CHOICES: dict[str, list[ReviewStatus]] = {
    "open": ["new", "in_review"],
    **{s: [s] for s in STATUSES},
    "any": [],
}
# The status form offers the allowed moves in this order: the usual next step first.
MOVE_ORDER: tuple[ReviewStatus, ...] = ("in_review", "resolved", "dismissed", "new")
STATUS_LABELS = {"new": "new", "in_review": "in review", "resolved": "resolved", "dismissed": "dismissed"}
# What an item page's URL carries of the queue it was opened from (to find the next item, and go back).
QUEUE_PARAMS = (*LISTS, "since", "until", "min_severity", "status", "assignee", "cursor", "pos")
DONE = {"assign", "unassign", "status", "note", "loop-closed", "loop-open"}
_ACTOR = re.compile(r"^key:\S+ \((?P<name>.*)\)$")


# ------------------------------------------------------------------ the queue


def _statuses(status: str) -> list[ReviewStatus]:
    if status not in STATUS_CHOICES:
        raise ConsoleError(400, f"unknown status {status!r}", f"choose one of: {', '.join(STATUS_CHOICES)}")
    return STATUS_CHOICES[status]


def _queue_query(filters: Filters, person: Person, status: str, assignee: str) -> tuple[ReviewQuery, bool]:
    """The store's query for the queue's choices, and whether only unassigned items are kept (the
    store cannot ask for those: the page keeps them out of each page it reads)."""
    name = {"anyone": None, "": None, "unassigned": None, "mine": person.name}.get(assignee, assignee)
    query = ReviewQuery(
        filter=filters.filter,
        statuses=_statuses(status),
        assignee=name,
        min_severity=filters.filter.min_severity or 1,
        limit=PAGE_SIZE,
    )
    return query, assignee == "unassigned"


def _keep(unassigned_only: bool) -> Callable[[ReviewState], bool]:
    return (lambda item: item.assignee is None) if unassigned_only else (lambda item: True)


def _marked(evidence: Evidence) -> Markup:
    """The sentence a flag's evidence occurs in, with the matched words marked."""
    context, words = evidence.context, evidence.text
    at = context.find(words) if words else -1
    if at < 0:
        return Markup(escape(context or words))
    end = at + len(words)
    return Markup(f"{escape(context[:at])}<mark>{escape(words)}</mark>{escape(context[end:])}")


def _alert_reasons(store: Store, state: ReviewState) -> list[str]:
    """Why alerts queued the conversation (from its audit events). A review without a revision has
    no events yet, so the store is asked only about conversations someone or something acted on."""
    if state.revision == 0:
        return []
    return [
        str(e["detail"].get("reason", "")) for e in store.review_events(state.conversation_id) if e["action"] == "alert"
    ]


def _item_view(store: Store, state: ReviewState, analysis: ConversationAnalysis | None) -> dict[str, Any]:
    flags = sorted(analysis.flags, key=lambda f: -f.severity) if analysis else []
    snippet = _marked(flags[0].evidence[0]) if flags and flags[0].evidence else None
    return {
        "state": state,
        "flags": flags,
        "snippet": snippet,
        "alerts": _alert_reasons(store, state),
    }


def _queue_params(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k in QUEUE_PARAMS and k not in ("cursor", "pos")]


@router.get("/review")
def queue_page(
    request: Request,
    person: Reviewer,
    store: StoreDep,
    filters: FiltersDep,
    status: str = "open",
    assignee: str = "anyone",
    cursor: str | None = None,
) -> Response:
    query, unassigned_only = _queue_query(filters, person, status, assignee)
    found = store.review_queue(query.model_copy(update={"cursor": cursor or None}))
    keep = _keep(unassigned_only)
    shown = [item for item in found.items if keep(item)]
    analyses = store.get_analyses([item.conversation_id for item in shown]) if shown else {}
    items = [_item_view(store, item, analyses.get(item.conversation_id)) for item in shown]
    base = _queue_params(request)
    links = [
        f"/review/{quote(item.conversation_id, safe='')}?"
        + urlencode([*base, *([("cursor", cursor)] if cursor else []), ("pos", str(i))])
        for i, item in enumerate(found.items)
        if keep(item)
    ]
    # The shared bar without the flag (this page draws its own flag select, which replaces it).
    bar = Filters(filters.filter, {k: v for k, v in filters.values.items() if k != "flag"})
    return page(
        request,
        person,
        "review.html",
        "Review queue",
        items=list(zip(items, links, strict=True)),
        total=found.total,
        unassigned_only=unassigned_only,
        next_url=request.url.path + "?" + urlencode([*base, ("cursor", found.next_cursor)])
        if found.next_cursor
        else None,
        first_url=(request.url.path + "?" + urlencode(base)) if cursor else None,
        bar=bar,
        status=status,
        assignee=assignee,
        flag=filters.one("flag"),
        min_severity=filters.one("min_severity"),
        signals=SIGNALS,
        status_choices=[*STATUS_CHOICES],
        status_labels=STATUS_LABELS,
    )


# ------------------------------------------------------------------ one item


def _order(state: ReviewState) -> tuple[int, float, str]:
    """The queue's order (most severe, then newest, then id; all descending; no time sorts last)."""
    started = state.started_at.timestamp() if state.started_at else float("-inf")
    return state.max_severity, started, state.conversation_id


def _next_item(
    store: Store,
    query: ReviewQuery,
    keep: Callable[[ReviewState], bool],
    current: ReviewState,
    cursor: str | None,
    pos: int,
) -> tuple[ReviewState, str | None, int] | None:
    """The first item after ``current`` in the queue (it may have left the queue since), read from
    the page it was opened on, then from the pages after; with the cursor and position to reach it."""
    after = _order(current)
    limit = min(max(pos, 0) + 3, 200)
    for _ in range(4):
        found = store.review_queue(query.model_copy(update={"cursor": cursor, "limit": limit}))
        for i, item in enumerate(found.items):
            if item.conversation_id != current.conversation_id and _order(item) < after and keep(item):
                return item, cursor, i
        if found.next_cursor is None:
            return None
        cursor, limit = found.next_cursor, 50
    return None


def _actor_name(actor: str) -> str:
    """How the audit names a person's key (``key:<id> (<name>)``) shown as the name."""
    found = _ACTOR.match(actor)
    if found:
        return found.group("name")
    if actor.startswith("alert:"):
        return f"alert rule {actor[6:]}"
    return actor


def _describe(event: dict[str, Any]) -> str:
    """What an audit event changed, in words."""
    detail: dict[str, Any] = event.get("detail") or {}
    action = event.get("action")
    if action == "note":
        return f"added a note ({detail.get('length', '?')} characters)"
    if action == "alert":
        return f"queued by an alert: {detail.get('reason', '')}"
    if action == "correction":
        segment = f" of segment {detail['segment_id']}" if detail.get("segment_id") else ""
        return f"corrected the {detail.get('field')}{segment}: {detail.get('previous') or '–'} → {detail.get('value')}"
    parts = []
    if "status" in detail:
        parts.append(f"status → {STATUS_LABELS.get(str(detail['status']), detail['status'])}")
    if "assignee" in detail:
        parts.append(f"assigned to {detail['assignee']}" if detail["assignee"] else "unassigned")
    if "loop_closed" in detail:
        parts.append("loop closed with the customer" if detail["loop_closed"] else "loop reopened")
    return "; ".join(parts) or f"{action}"


def _highlighted(text: str, spans: list[tuple[int, int]]) -> Markup:
    """A turn's text with the evidence spans marked (overlapping spans merged)."""
    out, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        out += [str(escape(text[at:start])), f"<mark>{escape(text[start:end])}</mark>"]
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def _done_message(done: str | None, state: ReviewState) -> str | None:
    if done not in DONE:
        return None
    return {
        "assign": f"Assigned to {state.assignee}.",
        "unassign": "Unassigned.",
        "status": f"Status set to {STATUS_LABELS[state.status]}.",
        "note": "Note added.",
        "loop-closed": "Marked as closed with the customer.",
        "loop-open": "Loop reopened.",
    }[done]


def _item_page(
    request: Request,
    person: Person,
    store: Store,
    conversation_id: str,
    queue_qs: str,
    *,
    next_url: str | None = None,
    done: str | None = None,
    conflict: str | None = None,
) -> Response:
    state = store.get_review(conversation_id)  # 404 page for an unknown conversation
    conversation = store.get_conversation(conversation_id)
    analysis = store.get_analyses([conversation_id]).get(conversation_id)
    flags = sorted(analysis.flags, key=lambda f: -f.severity) if analysis else []
    spans: dict[int, list[tuple[int, int]]] = {}
    for flag in flags:
        for evidence in flag.evidence:
            spans.setdefault(evidence.turn_index, []).append((evidence.start, evidence.end))
    turns = (
        [
            (i, turn, _highlighted(turn.text, spans.get(i, [])))
            for i, turn in enumerate(conversation.turns)
            if turn.role == "customer"
        ]
        if conversation
        else []
    )
    events = [
        {"at": e["at"], "who": _actor_name(e["actor"]), "actor": e["actor"], "what": _describe(e)}
        for e in reversed(store.review_events(conversation_id))
    ]
    back = [(k, v) for k, v in parse_qsl(queue_qs) if k not in ("pos",)]
    return page(
        request,
        person,
        "review_item.html",
        f"Review: {conversation_id}",
        status_code=409 if conflict else 200,
        state=state,
        conversation=conversation,
        analysis=analysis,
        flags=flags,
        marked=_marked,
        who=_actor_name,
        turns=turns,
        events=events,
        moves=[m for m in MOVE_ORDER if m in REVIEW_TRANSITIONS[state.status]],
        status_labels=STATUS_LABELS,
        queue_qs=queue_qs,
        queue_url="/review" + ("?" + urlencode(back) if back else ""),
        next_url=next_url,
        done=_done_message(done, state),
        conflict=conflict,
        can_write=person.can("review"),
    )


@router.get("/review/{conversation_id}")
def item_page(
    request: Request,
    conversation_id: str,
    person: Reviewer,
    store: StoreDep,
    filters: FiltersDep,
    status: str = "open",
    assignee: str = "anyone",
    cursor: str | None = None,
    pos: int = 0,
    done: str | None = None,
) -> Response:
    current = store.get_review(conversation_id)
    query, unassigned_only = _queue_query(filters, person, status, assignee)
    found = _next_item(store, query, _keep(unassigned_only), current, cursor or None, pos)
    next_url = None
    if found:
        item, at_cursor, at_pos = found
        params = [*_queue_params(request), *([("cursor", at_cursor)] if at_cursor else []), ("pos", str(at_pos))]
        next_url = f"/review/{quote(item.conversation_id, safe='')}?" + urlencode(params)
    queue_qs = urlencode([(k, v) for k, v in request.query_params.multi_items() if k in QUEUE_PARAMS])
    return _item_page(request, person, store, conversation_id, queue_qs, next_url=next_url, done=done)


# ------------------------------------------------------------------ writes


def _back(conversation_id: str, queue_qs: str, done: str) -> RedirectResponse:
    """Post/redirect/get: back to the item, in the same place in the queue, with a confirmation."""
    params = [(k, v) for k, v in parse_qsl(queue_qs) if k in QUEUE_PARAMS]
    return RedirectResponse(
        f"/review/{quote(conversation_id, safe='')}?" + urlencode([*params, ("done", done)]), status_code=303
    )


def _update(
    request: Request,
    person: Person,
    store: Store,
    conversation_id: str,
    revision: int,
    queue_qs: str,
    done: str,
    **changes: Any,
) -> Response:
    try:
        store.update_review(conversation_id, person.actor, expected_revision=revision, **changes)
    except ConflictError as exc:
        now = store.get_review(conversation_id)
        if now.revision != revision:
            message = (
                f"Someone else changed this review since you loaded it (you saw revision {revision}, it is now at "
                f"{now.revision}). Your change was not applied: the page below shows the review as it is now; "
                "reload it, check their change, then apply yours again if it still applies."
            )
        else:
            message = f"That change is not allowed: {exc.message}" + (f" ({exc.hint})." if exc.hint else ".")
        return _item_page(request, person, store, conversation_id, queue_qs, conflict=message)
    return _back(conversation_id, queue_qs, done)


Revision = Annotated[int, Form(ge=0)]
Back = Annotated[str, Form(max_length=4000)]


@router.post("/review/{conversation_id}/assign")
def assign(
    request: Request,
    conversation_id: str,
    person: ReviewWriter,
    store: StoreDep,
    revision: Revision,
    to: Annotated[str, Form()] = "me",
    assignee: Annotated[str, Form(max_length=200)] = "",
    back: Back = "",
) -> Response:
    if to == "nobody":
        return _update(request, person, store, conversation_id, revision, back, "unassign", unassign=True)
    name = person.name if to == "me" else assignee.strip()
    if not name:
        raise ConsoleError(400, "no name to assign the review to", "type the reviewer's name, or use 'Assign to me'")
    return _update(request, person, store, conversation_id, revision, back, "assign", assignee=name)


@router.post("/review/{conversation_id}/status")
def set_status(
    request: Request,
    conversation_id: str,
    person: ReviewWriter,
    store: StoreDep,
    revision: Revision,
    status: Annotated[ReviewStatus, Form()],
    back: Back = "",
) -> Response:
    return _update(request, person, store, conversation_id, revision, back, "status", status=status)


@router.post("/review/{conversation_id}/notes")
def add_note(
    request: Request,
    conversation_id: str,
    person: ReviewWriter,
    store: StoreDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=10_000)] = "",
    back: Back = "",
) -> Response:
    """A note adds to the review and overwrites nothing, so it is kept whatever the revision now is
    (as ``POST /v1/review/{id}/notes``); personal data in it is redacted like the conversation's."""
    if not text.strip():
        raise ConsoleError(400, "the note is empty", "write the note in the box, then add it")
    review.add_note(store, settings, conversation_id, person.actor, text.strip())
    return _back(conversation_id, back, "note")


@router.post("/review/{conversation_id}/loop")
def loop(
    request: Request,
    conversation_id: str,
    person: ReviewWriter,
    store: StoreDep,
    revision: Revision,
    closed: Annotated[bool, Form()] = True,
    back: Back = "",
) -> Response:
    done = "loop-closed" if closed else "loop-open"
    return _update(request, person, store, conversation_id, revision, back, done, loop_closed=closed)

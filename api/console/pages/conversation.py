"""A conversation as a reviewer reads it: the facts of the contact, its journey stage, sentiment and
trajectory, its themes and flags, and the turns in order, each customer segment coloured by its
sentiment with its theme, and each flag's evidence marked where it was said. People with the
review scope correct labels from here (``vocmine.services.review.correct_label``, as the API's
``POST /v1/review/{id}/corrections``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from vocmine.analysis.journey.model import STAGES, UNKNOWN
from vocmine.errors import NotFoundError, VocmineError
from vocmine.schema import UNSUPPORTED_LANGUAGE, AnalysedSegment, Conversation, ConversationAnalysis, LabelCorrection
from vocmine.services.review import SENTIMENTS, correct_label
from vocmine.store.protocol import Store
from vocmine_api.console.charts import line_chart
from vocmine_api.console.people import ConsoleError, Person, SignInNeeded, person_of, writer
from vocmine_api.console.render import page
from vocmine_api.deps import StoreDep

router = APIRouter(include_in_schema=False)

ROLES = {"customer": "Customer", "agent": "Agent", "bot": "Bot", "system": "System"}
FIELDS = {"sentiment": "sentiment", "stage": "journey stage", "theme": "theme"}
CORRECTABLE_STAGES = (*STAGES, UNKNOWN)

Span = tuple[int, int, str]  # start, end, what it is evidence of


@dataclass(frozen=True)
class Piece:
    """A stretch of a turn's text as HTML (escaped, with evidence inside <mark>), and the customer
    segment it belongs to, if any."""

    html: Markup
    segment: AnalysedSegment | None


def evidence_spans(conversation: Conversation, analysis: ConversationAnalysis | None) -> dict[int, list[Span]]:
    """Each flag's evidence as spans of its turn's text, by turn. Offsets are trusted only when they
    still point at the evidence's words; otherwise the words are looked up in the turn."""
    spans: dict[int, list[Span]] = {}
    for flag in analysis.flags if analysis else []:
        for evidence in flag.evidence:
            if evidence.turn_index >= len(conversation.turns):
                continue
            text = conversation.turns[evidence.turn_index].text
            start, end = evidence.start, evidence.end
            if text[start:end] != evidence.text or start >= end:
                start = text.find(evidence.text) if evidence.text else -1
                if start < 0:
                    continue
                end = start + len(evidence.text)
            spans.setdefault(evidence.turn_index, []).append((start, end, flag.signal))
    return spans


def turn_pieces(text: str, segments: Sequence[AnalysedSegment], marks: Sequence[Span]) -> list[Piece]:
    """The turn's text cut at every segment and evidence boundary: consecutive cuts of one segment
    form one piece; a cut inside evidence is wrapped in <mark> naming the flags. Everything else is
    escaped, so nothing the customer wrote is read as HTML. Whitespace between segments is dropped."""
    size = len(text)
    cuts = {0, size}
    for s in segments:
        cuts |= {min(s.start, size), min(s.end, size)}
    for start, end, _ in marks:
        cuts |= {min(start, size), min(end, size)}
    points = sorted(cuts)
    grouped: list[tuple[AnalysedSegment | None, list[str]]] = []
    for a, b in pairwise(points):
        segment = next((s for s in segments if s.start <= a and b <= s.end), None)
        names = sorted({name for start, end, name in marks if start <= a and b <= end})
        chunk = str(escape(text[a:b]))
        if names:
            chunk = f'<mark title="evidence of {escape(", ".join(names))}">{chunk}</mark>'
        if grouped and grouped[-1][0] is segment:
            grouped[-1][1].append(chunk)
        else:
            grouped.append((segment, [chunk]))
    return [
        Piece(Markup("".join(parts)), segment)
        for segment, parts in grouped
        if segment is not None or "".join(parts).strip()
    ]


def _themes(store: Store) -> dict[str, Any]:
    themes = store.list_themes()
    by_id = {t.id: t for t in themes}
    options = []  # for the theme correction: active themes, each top-level one then its sub-themes
    active = [t for t in themes if t.status == "active"]
    tops = sorted((t for t in active if t.level == "theme"), key=lambda t: t.display_name.lower())
    for top in tops:
        options.append((top.id, top.display_name))
        kids = sorted((t for t in active if t.parent == top.id), key=lambda t: t.display_name.lower())
        options += [(t.id, f"– {t.display_name}") for t in kids]
    placed = {i for i, _ in options}
    options += [(t.id, t.display_name) for t in active if t.id not in placed]
    return {"by_id": by_id, "options": options}


def _render(
    request: Request,
    person: Person,
    store: Store,
    conversation_id: str,
    *,
    saved: bool = False,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    conversation = store.get_conversation(conversation_id)
    if conversation is None:
        raise ConsoleError(
            404,
            f"no conversation with id {conversation_id!r}",
            "take a conversation from the search page or the review queue",
        )
    analysis = store.get_analyses([conversation_id]).get(conversation_id)
    themes = _themes(store)
    by_id = themes["by_id"]
    marks = evidence_spans(conversation, analysis)
    segments = sorted(analysis.segments, key=lambda s: (s.turn_index, s.start)) if analysis else []
    turns = [
        {
            "index": i,
            "turn": turn,
            "role": ROLES.get(turn.role, turn.role),
            "pieces": turn_pieces(turn.text, [s for s in segments if s.turn_index == i], marks.get(i, [])),
        }
        for i, turn in enumerate(conversation.turns)
    ]
    used = sorted({s.theme_id for s in segments if s.theme_id})
    theme_rows = []
    for theme_id in used:
        theme = by_id.get(theme_id)
        parent = by_id.get(theme.parent) if theme and theme.parent else None
        count = sum(1 for s in segments if s.theme_id == theme_id)
        theme_rows.append(
            {"id": theme_id, "name": theme.display_name if theme else theme_id, "parent": parent, "segments": count}
        )
    scores = [s.sentiment_score for s in segments]
    chart = (
        line_chart(
            [str(n + 1) for n in range(len(scores))],
            [("Sentiment score", scores)],
            label="Sentiment of the customer's segments, in the order they were said (−1 negative … +1 positive)",
            height=160,
        )
        if len(scores) > 1
        else None
    )
    review = None
    if analysis is not None and person.can("review"):
        try:
            review = store.get_review(conversation_id)
        except NotFoundError:
            review = None
    confirmation = None
    if saved and review is not None and review.corrections:
        last = review.corrections[-1]
        confirmation = _describe(last, segments, by_id)
    flags = sorted(analysis.flags, key=lambda f: (-f.severity, f.signal)) if analysis else []
    return page(
        request,
        person,
        "conversation.html",
        conversation.subject or f"Conversation {conversation.id}",
        status_code=status_code,
        conversation=conversation,
        analysis=analysis,
        stale=analysis is not None and analysis.content_hash != conversation.content_hash(),
        unsupported=analysis is not None and analysis.stage == UNSUPPORTED_LANGUAGE,
        turns=turns,
        segment_numbers={s.id: n + 1 for n, s in enumerate(segments)},
        flags=flags,
        evidence_turns=sorted({i for i in marks}),
        theme_rows=theme_rows,
        theme_names={i: t.display_name for i, t in by_id.items()},
        theme_options=themes["options"],
        chart=chart,
        review=review,
        in_queue=bool(flags) or (review is not None and review.revision > 0),
        can_correct=person.can("review") and analysis is not None and analysis.stage != UNSUPPORTED_LANGUAGE,
        sentiments=SENTIMENTS,
        stages=CORRECTABLE_STAGES,
        confirmation=confirmation,
        problem=problem,
        corrections=[(c, _describe(c, segments, by_id)) for c in (review.corrections if review else [])],
    )


def _describe(correction: LabelCorrection, segments: Sequence[AnalysedSegment], by_id: dict[str, Any]) -> str:
    """A correction in words: "the sentiment of segment 2 is now positive (the model said negative)"."""

    def name(value: str | None) -> str:
        if value is None:
            return "none"
        if correction.field == "theme" and value in by_id:
            return f"{by_id[value].display_name}"
        return value

    numbers = {s.id: n + 1 for n, s in enumerate(segments)}
    what = FIELDS[correction.field]
    where = (
        f"segment {numbers.get(correction.segment_id, correction.segment_id)}"
        if correction.segment_id
        else "the conversation"
    )
    return f"the {what} of {where} is now {name(correction.value)} (the model said {name(correction.previous)})"


async def _reader_or_reviewer(request: Request) -> Person:
    """The signed-in person, who must hold the read or the review scope: quality reviewers open the
    conversations of their queue from here, and their keys may hold the review scope alone."""
    person = person_of(request)
    if person is None:
        raise SignInNeeded(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if not (person.can("read") or person.can("review")):
        raise ConsoleError(
            403,
            f"your key ({person.name}) lacks the 'read' or 'review' scope this page needs",
            "ask an admin for a key with --scope read",
        )
    return person


Viewer = Annotated[Person, Depends(_reader_or_reviewer)]


@router.get("/conversations/{conversation_id}")
def conversation_page(
    request: Request, conversation_id: str, person: Viewer, store: StoreDep, saved: str = ""
) -> Response:
    return _render(request, person, store, conversation_id, saved=saved == "1")


@router.post("/conversations/{conversation_id}/corrections")
def correct(
    request: Request,
    conversation_id: str,
    person: Annotated[Person, Depends(writer("review"))],
    store: StoreDep,
    field: Annotated[str, Form(max_length=20)] = "",
    value: Annotated[str, Form(max_length=200)] = "",
    segment_id: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Record a label correction, then back to the conversation with a confirmation; a value the
    models cannot say comes back as the page, saying what to change."""
    if store.get_conversation(conversation_id) is None:
        raise ConsoleError(
            404, f"no conversation with id {conversation_id!r}", "take a conversation from the search page"
        )
    problem = None
    if field not in FIELDS:
        problem = f"{field!r} cannot be corrected: choose the sentiment, the journey stage or a segment's theme"
    elif not value.strip():
        problem = f"choose the right {FIELDS[field]} before saving"
    else:
        correction = LabelCorrection.model_validate(
            {"field": field, "value": value.strip(), "segment_id": segment_id.strip() or None}
        )
        try:
            correct_label(store, conversation_id, person.actor, correction)
        except VocmineError as exc:
            problem = f"{exc.message}{f' – {exc.hint}' if exc.hint else ''}"
    if problem:
        return _render(request, person, store, conversation_id, problem=problem, status_code=400)
    return RedirectResponse(f"/conversations/{quote(conversation_id, safe='')}?saved=1", status_code=303)

"""A conversation with everything analysis said about it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from vocmine_api.deps import StoreDep, require
from vocmine_api.errors import ApiError
from vocmine_api.schemas import ConversationView, ErrorResponse

router = APIRouter(prefix="/v1", tags=["conversations"], dependencies=[Depends(require("read"))])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}}


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationView,
    responses={**ERRORS, 404: {"model": ErrorResponse}},
)
def get_conversation(conversation_id: str, store: StoreDep) -> ConversationView:
    """Turns, segments with sentiment, stage and theme, flags with evidence, trajectory, model versions."""
    conversation = store.get_conversation(conversation_id)
    if conversation is None:
        raise ApiError(404, f"no conversation with id {conversation_id!r}", "take an id from /v1/search")
    analysis = store.get_analyses([conversation_id]).get(conversation_id)
    used = {s.theme_id for s in analysis.segments if s.theme_id} if analysis else set()
    names = {t.id: t.display_name for t in store.list_themes() if t.id in used} if used else {}
    return ConversationView(conversation=conversation, analysis=analysis, theme_names=names)

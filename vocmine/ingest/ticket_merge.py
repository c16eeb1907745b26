"""Pieces of one help-desk ticket (or contact-centre conversation), read from different files,
combined into one conversation.

Help desks export a ticket in pieces: the tickets list (subject, tags, satisfaction, and only the
description as text), the ticket's comments or conversations (every message, no subject), its
audits. Each piece a reader makes has the ticket's conversation id; stored one after the other, the
later would replace the earlier, and a description-only ticket read last would wipe the full thread.
So pieces are combined, in a batch and against the stored conversation:

* turns: a piece marked partial (``metadata.text_from``: its text is only the description or the
  subject) never replaces full turns; two full pieces give the union of their turns (by
  ``Turn.identity``) in time order; two partial pieces, the later;
* fields (subject, agent, team, brand, product, customer, survey scores): the later piece's value
  where it has one, else the earlier's; metadata: both, the later winning; a call's metrics are
  measured again over the combined turns (Genesys gives a transferred call one transcript per leg);
* ``text_from`` is dropped once the turns come from a full piece.
"""

from __future__ import annotations

from vocmine.ingest.readers.calls import call_metrics
from vocmine.schema import Conversation, SurveyScores, Turn

PARTIAL = "text_from"
_FIELDS = ("source_id", "subject", "customer_id", "account_id", "agent_id", "team_id", "brand", "product", "language")


def combine_ticket(previous: Conversation | None, incoming: Conversation) -> Conversation:
    if previous is None:
        return incoming
    earlier_partial, later_partial = PARTIAL in previous.metadata, PARTIAL in incoming.metadata
    if later_partial and not earlier_partial:
        turns, partial = previous.turns, False
    elif earlier_partial and not later_partial:
        turns, partial = incoming.turns, False
    elif later_partial:
        turns, partial = incoming.turns, True
    else:
        turns, partial = _union(previous.turns, incoming.turns), False
    metadata = {**previous.metadata, **incoming.metadata}
    if not partial:
        metadata.pop(PARTIAL, None)
    update: dict[str, object] = {name: getattr(incoming, name) or getattr(previous, name) for name in _FIELDS}
    update |= {
        "channel": previous.channel if later_partial and not earlier_partial else incoming.channel,
        "turns": turns,
        "metadata": metadata,
        "survey": _survey(previous.survey, incoming.survey),
        # a call's metrics are over all its turns: a transferred call's legs arrive as pieces
        "call_metrics": call_metrics(turns) if incoming.channel == "call" else None,
        "started_at": None,
        "ended_at": None,
    }
    return incoming.model_copy(update=update).with_time_bounds()


def _union(earlier: list[Turn], later: list[Turn]) -> list[Turn]:
    known = {t.identity() for t in earlier}
    turns = [*earlier, *(t for t in later if t.identity() not in known)]
    # sorted() is stable: turns without a time keep their place after the timed ones
    return sorted(turns, key=lambda t: (t.timestamp is None, t.timestamp.timestamp() if t.timestamp else 0.0))


def _survey(earlier: SurveyScores | None, later: SurveyScores | None) -> SurveyScores | None:
    if earlier is None or later is None:
        return later or earlier
    return SurveyScores(**{**earlier.model_dump(exclude_none=True), **later.model_dump(exclude_none=True)})

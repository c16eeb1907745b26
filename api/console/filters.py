"""The filter bar every console page shares: the same filters as the API's query parameters, read
from the page's URL with empty fields ignored (an empty form field is "any"), dates read as
midnight in the person's time zone, and the values kept to draw the bar again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError

from vocmine.services.insights import with_subthemes
from vocmine.store.query import ConversationFilter
from vocmine_api.console.people import ConsoleError, user_zone
from vocmine_api.deps import StoreDep

# query parameter → ConversationFilter field (the API's names, so a console URL reads like an API call)
LISTS = {
    "channel": "channels", "source": "sources", "brand": "brands", "product": "products", "agent": "agent_ids",
    "team": "team_ids", "language": "languages", "sentiment": "sentiments", "stage": "stages",
    "trajectory": "trajectories", "flag": "signals", "theme": "themes",
}  # fmt: skip
CHANNELS = ("chat", "email", "social", "call")
SENTIMENTS = ("negative", "neutral", "positive")
STAGES = ("awareness", "consideration", "purchase", "use", "support", "advocacy", "unknown")


@dataclass(frozen=True)
class Filters:
    filter: ConversationFilter  # a top-level theme also matches its sub-themes' segments
    values: dict[str, list[str]] = field(default_factory=dict)  # what the bar shows, by parameter name

    def one(self, name: str) -> str:
        return (self.values.get(name) or [""])[0]


def _moment(text: str, request: Request) -> datetime:
    """``2026-03-01`` is midnight of that day in the person's zone; a full date-time is read as
    written (UTC when it has no zone)."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=user_zone(request))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def page_filters(request: Request, store: StoreDep) -> Filters:
    values: dict[str, list[str]] = {}
    for name in (*LISTS, "since", "until", "min_severity"):
        given = [v.strip() for v in request.query_params.getlist(name) if v.strip()]
        if given:
            values[name] = given
    fields: dict[str, object] = {LISTS[name]: given for name, given in values.items() if name in LISTS}
    try:
        for name in ("since", "until"):
            if name in values:
                fields[name] = _moment(values[name][0], request)
        if "min_severity" in values:
            fields["min_severity"] = int(values["min_severity"][0])
        conversation_filter = ConversationFilter.model_validate(fields)
    except (ValueError, ValidationError) as exc:
        problems = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        raise ConsoleError(400, f"a filter is not valid: {problems}", "correct or clear that filter") from exc
    return Filters(with_subthemes(store, conversation_filter), values)


FiltersDep = Annotated[Filters, Depends(page_filters)]

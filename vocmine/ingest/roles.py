"""Who is speaking: map the labels sources use (names, "spk_0", "Agent", e-mail addresses, handles)
onto speaker roles, and keep customer identifiers out of the store when redaction is on."""

from __future__ import annotations

from vocmine.schema import SPEAKER_ROLES, SpeakerRole
from vocmine.settings import Settings

_BOT_WORDS = ("bot", "virtual assistant", "automated", "ivr")
_SYSTEM_WORDS = ("system", "action")


class SpeakerRoles:
    """Decides roles for the speaker labels of one conversation.

    Known words decide first (an explicit role name, then the configured agent and customer label
    lists, then bot/system words). A label that none of them matches takes ``first_unknown`` if it
    is the first such label in the conversation, and the opposite role after that: two-party calls
    and chats are the common case.
    """

    def __init__(self, settings: Settings, first_unknown: SpeakerRole) -> None:
        self.settings = settings
        self.first_unknown = first_unknown
        self.assigned: dict[str, SpeakerRole] = {}

    def known(self, label: str) -> SpeakerRole | None:
        lowered = label.strip().lower()
        if lowered in SPEAKER_ROLES:
            return lowered
        if any(word in lowered for word in _BOT_WORDS):
            return "bot"
        if any(word.lower() in lowered for word in self.settings.call_agent_labels):
            return "agent"
        if any(word.lower() in lowered for word in self.settings.call_customer_labels):
            return "customer"
        if lowered in _SYSTEM_WORDS:
            return "system"
        return None

    def role(self, label: str | None) -> SpeakerRole:
        key = (label or "").strip().lower()
        if key in self.assigned:
            return self.assigned[key]
        role = self.known(key) if key else None
        if role is None:
            unknown_seen = [r for k, r in self.assigned.items() if self.known(k) is None]
            if not unknown_seen:
                role = self.first_unknown
            else:
                role = "customer" if self.first_unknown == "agent" else "agent"
        self.assigned[key] = role
        return role

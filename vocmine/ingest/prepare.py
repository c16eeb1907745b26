"""The last step before storage: PII redaction of every field that can hold personal data, and
language identification.

Runs on every conversation, whatever its channel or path (CLI, API batch, API upload), so no reader
can forget it:

* texts (turns, subject, metadata values) are redacted in place;
* the customer's identifiers (``customer_id``, the customer turns' ``speaker``) become stable
  pseudonyms (``cust-…``), so they still group a customer's conversations without naming them;
* other identifiers (the conversation id, turn keys, agent, account and team ids, source id) and the
  agents' speaker labels are kept when they hold no personal data, as ids from a help desk do;
  one that does ("chat-jane.doe@example.org") becomes a stable pseudonym of its own kind.
"""

from __future__ import annotations

import re
from typing import Any

from vocmine.ingest.redact import Redactor, pseudonymise
from vocmine.language import detect_language
from vocmine.schema import Conversation, Turn, stable_hash
from vocmine.settings import Settings

_PSEUDONYM = re.compile(r"^cust-[0-9a-f]{16}$")  # what pseudonymise() makes: not pseudonymised twice
# The ids readers make from hashes ("mid-3f2a…", "email-9c01…"): redaction can find nothing in them
# (no "@", capital, space or second "-"; a digit run in them is bounded by word characters or longer
# than any phone number), so it is not asked, one check less per turn key.
# tests/unit/ingest/test_identifiers.py holds the redactor to that.
_HASHED_ID = re.compile(r"[a-z]{1,12}-[0-9a-f]{16,64}\Z")
# Labels speech-to-text tools give a voice ("SPEAKER_01", "spk_1", "Speaker 2", AssemblyAI's "B",
# Speechmatics' "S2" and "UU" for unknown): no one's name.
_VOICE_LABEL = re.compile(r"^(?:(?:speaker|spk|channel|ch)[ _-]?\d{1,2}|[A-Z]|S\d{1,2}|UU)$", re.IGNORECASE)


class Preparer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redactor = Redactor(
            types=settings.redact_types if settings.redact_pii else (),
            phone_regions=settings.phone_regions,
            keep_handles=settings.brand_accounts,
        )
        self._role_labels = {label.lower() for label in (*settings.call_customer_labels, *settings.call_agent_labels)}
        # Rejection reasons may quote input; they are redacted too, without counting as data.
        self._reason_redactor = Redactor(
            types=self.redactor.types, phone_regions=settings.phone_regions, keep_handles=settings.brand_accounts
        )

    def keep_handles(self, handles: set[str]) -> None:
        """Brand accounts found in the data (e.g. TWCS authors of company replies) are not PII."""
        for redactor in (self.redactor, self._reason_redactor):
            redactor.keep(handles)

    @property
    def pii_counts(self) -> dict[str, int]:
        return dict(self.redactor.counts)

    def turn(self, turn: Turn) -> Turn:
        if not self.settings.redact_pii:
            return turn
        speaker = turn.speaker
        if speaker is not None:
            speaker = self._customer(speaker) if turn.role == "customer" else self.redactor.redact(speaker)
        return turn.model_copy(
            update={
                "text": self.redactor.redact(turn.text),
                "raw_text": self.redactor.redact(turn.raw_text),
                "speaker": speaker,
                "key": self._identifier(turn.key, "turn"),
            }
        )

    def conversation(self, conversation: Conversation, *, turns_prepared: bool = False) -> Conversation:
        update: dict[str, Any] = {}
        if self.settings.redact_pii:
            if not turns_prepared:
                update["turns"] = [self.turn(t) for t in conversation.turns]
            update["subject"] = self.redactor.redact(conversation.subject)
            update["metadata"] = self._redact_value(conversation.metadata)
            update["id"] = self._identifier(conversation.id, "conv")
            update["customer_id"] = self._customer(conversation.customer_id)
            for field, kind in (("agent_id", "agent"), ("account_id", "account"), ("team_id", "team")):
                update[field] = self._identifier(getattr(conversation, field), kind)
            update["source_id"] = self._identifier(conversation.source_id, "source")
        prepared = conversation.model_copy(update=update)
        if self.settings.detect_language and not prepared.language:
            text = prepared.customer_text() or "\n".join(t.text for t in prepared.turns)
            prepared = prepared.model_copy(update={"language": detect_language(text)})
        return prepared

    def _customer(self, value: str | None) -> str | None:
        """A pseudonym for a customer's id or name; role and voice labels ("Customer", "SPEAKER_01")
        name no one and stay readable."""
        if not value or _PSEUDONYM.match(value) or _VOICE_LABEL.match(value.strip()):
            return value
        if value.strip().lower() in self._role_labels:
            return value
        return pseudonymise(value)

    def _identifier(self, value: str | None, kind: str) -> str | None:
        """The identifier itself when it holds no personal data, else a stable pseudonym (the same
        input always maps to the same id, so re-ingesting it updates the same record)."""
        if not value or _HASHED_ID.match(value) or self._reason_redactor.redact(value) == value:
            return value
        self.redactor.counts["identifier"] += 1
        return f"{kind}-{stable_hash('vocmine', kind, value, length=16)}"

    def reason(self, reason: str) -> str:
        return self._reason_redactor.redact(reason) or reason

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor.redact(value)
        if isinstance(value, list):
            return [self._redact_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self._redact_value(v) for k, v in value.items()}
        return value

"""The last step before storage: PII redaction of every text field, and language identification.

Runs on every conversation, whatever its channel, so no reader can forget it.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.redact import Redactor
from vocmine.language import detect_language
from vocmine.schema import Conversation, Turn
from vocmine.settings import Settings


class Preparer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redactor = Redactor(
            types=settings.redact_types if settings.redact_pii else (),
            phone_regions=settings.phone_regions,
            keep_handles=settings.brand_accounts,
        )
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
        return turn.model_copy(
            update={"text": self.redactor.redact(turn.text), "raw_text": self.redactor.redact(turn.raw_text)}
        )

    def conversation(self, conversation: Conversation, *, turns_prepared: bool = False) -> Conversation:
        update: dict[str, Any] = {}
        if self.settings.redact_pii:
            if not turns_prepared:
                update["turns"] = [self.turn(t) for t in conversation.turns]
            update["subject"] = self.redactor.redact(conversation.subject)
            update["metadata"] = self._redact_value(conversation.metadata)
        prepared = conversation.model_copy(update=update)
        if self.settings.detect_language and not prepared.language:
            text = prepared.customer_text() or "\n".join(t.text for t in prepared.turns)
            prepared = prepared.model_copy(update={"language": detect_language(text)})
        return prepared

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

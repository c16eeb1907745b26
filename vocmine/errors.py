"""One small exception tree. Every error says what was wrong and what to do about it."""

from __future__ import annotations


class VocmineError(Exception):
    """Base of every error vocmine raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(VocmineError):
    """A setting or option has a value vocmine cannot use."""


class InputPathError(VocmineError):
    """An input path is missing, unreadable or holds nothing vocmine can read."""


class RecordError(VocmineError):
    """One input record cannot be turned into a conversation; the run rejects it and goes on."""


class StoreError(VocmineError):
    """The store cannot be opened, migrated, read or written."""


class NotFoundError(VocmineError):
    """A conversation or other object with the given id does not exist."""


class ConflictError(VocmineError):
    """The change conflicts with the object's current state (a stale revision, a move the status
    does not allow)."""

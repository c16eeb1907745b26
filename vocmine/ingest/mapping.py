"""Mapping files: how the columns of any CSV, or the paths of any JSON, become conversations.

``vocmine ingest export.csv --map mapping.toml`` reads an export vocmine has no reader for. The
mapping names where each field is; docs/mapping.md documents it with examples. A mapping is checked
when it is loaded (unknown keys, a missing text field, bad roles and channels are errors that name
the key to change); a column or path it names that an input lacks is reported when that input is
read, with the columns the input does have.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vocmine.errors import ConfigError
from vocmine.schema import Channel, SpeakerRole

_STRICT = ConfigDict(extra="forbid", frozen=True)


class FieldMap(BaseModel):
    """Where each field is: a CSV column name (matched ignoring case and surrounding spaces) or a
    dotted JSON path (``author.type``, ``comments.0.body``)."""

    model_config = _STRICT

    text: str | list[str]  # one column, or several (each a turn: a survey's free-text questions)
    conversation_id: str | None = None  # rows with the same value are one conversation; None: a row each
    order: str | None = None  # turn order inside a conversation; else time, else the input's order
    time: str | None = None
    speaker: str | None = None
    role: str | None = None  # its values are looked up in [roles]
    channel: str | None = None  # a per-row channel, overriding the mapping's
    customer_id: str | None = None
    account_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    brand: str | None = None
    product: str | None = None
    subject: str | None = None
    language: str | None = None
    nps: str | None = None
    csat: str | None = None
    ces: str | None = None
    metadata: list[str] = Field(default_factory=list)  # kept under their own names

    @field_validator("text")
    @classmethod
    def _some_text(cls, value: str | list[str]) -> str | list[str]:
        if not value or (isinstance(value, list) and not all(isinstance(v, str) and v for v in value)):
            raise ValueError("name the column or path that holds the message text")
        return value

    def texts(self) -> list[str]:
        return [self.text] if isinstance(self.text, str) else list(self.text)

    def named(self) -> dict[str, str]:
        """Every single-valued field that is mapped, by field name."""
        return {
            name: value
            for name, value in self.model_dump(exclude={"text", "metadata"}).items()
            if isinstance(value, str) and value
        }


class Mapping(BaseModel):
    model_config = _STRICT

    fields: FieldMap
    channel: Channel = "chat"
    source: str = Field(default="mapped", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
    format: Literal["csv", "json"] | None = None  # None: decided by content ({ or [ starts JSON)
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)  # CSV; None: sniffed
    skip_rows: int = Field(default=0, ge=0, le=10)  # CSV rows after the header that are more header
    records: str | None = None  # JSON: path to the list of records inside each document
    turns: str | None = None  # JSON: path to a record's list of messages (turn fields are read there)
    time_format: str | None = None  # strptime format when times are not ISO 8601 / epoch / RFC 2822
    timezone: str | None = None  # IANA zone of times written without one (default: UTC)
    default_role: SpeakerRole = "customer"  # rows without a role or speaker (survey answers)
    roles: dict[str, SpeakerRole] = Field(default_factory=dict)  # role-column value -> role

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris'") from None
        return value

    def role_for(self, value: str) -> SpeakerRole | None:
        lowered = value.strip().lower()
        return next((role for key, role in self.roles.items() if key.strip().lower() == lowered), None)


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every problem raises ConfigError naming the key to change."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {path}", hint="check the path given to --map") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping file {path} is not valid TOML: {exc}", hint="see docs/mapping.md") from None
    try:
        return Mapping.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(f"mapping file {path}: {problems}", hint="see docs/mapping.md for every key") from None


def _problem(error: Any) -> str:  # a pydantic ErrorDetails
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "missing":
        what = "the column or path that holds the message text" if where == "fields.text" else "required"
        return f"{where} is missing ({what})"
    if error["type"] == "extra_forbidden":
        return f"{where} is not a mapping key"
    return f"{where}: {error['msg']}"

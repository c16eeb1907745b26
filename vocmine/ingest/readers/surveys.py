"""Survey exports (NPS, CSAT, CES with free-text answers) recognised without a mapping file.

A survey CSV is recognised by its columns: a score question (NPS "how likely ... recommend", CSAT
"satisfied", CES "effort"), at least one free-text question (reason, comment, feedback, "what could
we do better") and a response id or a submission date. The columns found become a mapping
(``vocmine.ingest.mapping``), read like any mapped export: each respondent is a conversation whose
customer turns are the free-text answers, carrying the score, the submission time and the
respondent's attributes (plan, region, segment: never name, e-mail, IP address or location) as
metadata. Exports that lay their columns out otherwise are read with ``--map`` (docs/mapping.md).

Header layouts of the common tools (from their documentation of the CSV download):

* one header row of question texts (Typeform, Google Forms, Delighted, Medallia and most others);
* Qualtrics: three header rows: the field ids (``ResponseId``, ``RecordedDate``, ``Q1``...), the
  question texts, and ``{"ImportId": ...}`` cells; the question texts decide, the field ids are the
  columns, and the two extra rows are skipped;
* SurveyMonkey: two header rows: the question texts, then "Response" / "Open-Ended Response" under
  each answer column; the second row is skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from vocmine.ingest.inputs.csvrows import DELIMITERS
from vocmine.ingest.inputs.sniff import Format, Sniff
from vocmine.ingest.mapping import FieldMap, Mapping
from vocmine.ingest.readers.mapped import peekable, read_mapped
from vocmine.ingest.records import Item, Location, ReadContext, Rejection

_NPS = re.compile(r"\bnps\b|recommend", re.IGNORECASE)
_CSAT = re.compile(r"\bcsat\b|satisf", re.IGNORECASE)
_CES = re.compile(r"\bces\b|effort|how easy", re.IGNORECASE)
_SCORE_GROUP = re.compile(r"group|category|segment|type|promoter|detractor|_text\b", re.IGNORECASE)
_FREE_TEXT = re.compile(
    r"comment|feedback|reason|\bwhy\b|verbatim|improve|better|suggest|explain|tell us|anything else|"
    r"open-ended|describe|what (?:did|do|could|should|would|can)|free.?text|_text\b|\bremarks?\b",
    re.IGNORECASE,
)
_RESPONSE_ID = re.compile(
    r"^(?:response ?id|responseid|response_id|respondent ?id|submission ?id|#|token|survey ?response ?id)$",
    re.IGNORECASE,
)
_SUBMITTED = re.compile(
    r"recorded ?date|submitted|submit date|end ?date|completed|date ?submitted|response date|timestamp|created at",
    re.IGNORECASE,
)
# Never kept as metadata: who the respondent is, where, and the survey tool's own bookkeeping.
_NOT_METADATA = re.compile(
    r"e-?mail|name|phone|ip ?address|latitude|longitude|address|recipient|external ?ref|user ?agent|"
    r"network ?id|collector|status|progress|duration|finished|distribution|response ?set|start ?date|"
    r"\burl\b|referr|browser|device id|date",
    re.IGNORECASE,
)
_MAX_METADATA = 20


def read_survey_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    buffered = peekable(stream)
    head = buffered.peek(1 << 16)
    mapping = survey_mapping(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
    if mapping is None:
        yield Rejection(
            Location(ctx.name, "line 1"),
            "no survey score and free-text columns recognised; read it with --map (docs/mapping.md)",
        )
        return
    yield from read_mapped(mapping, buffered, ctx)


def survey_mapping(text: str) -> Mapping | None:
    """The mapping a survey export's header rows imply, or None when it is not a survey export."""
    rows = _first_rows(text)
    if not rows:
        return None
    header = [cell.strip() for cell in rows[0]]
    descriptions, skip = _descriptions(header, rows[1:])
    scores: dict[str, int] = {}
    for name, pattern in (("nps", _NPS), ("csat", _CSAT), ("ces", _CES)):
        found = next((i for i, d in enumerate(descriptions) if pattern.search(d) and not _SCORE_GROUP.search(d)), None)
        if found is not None and found not in scores.values():
            scores[name] = found
    texts = [
        i
        for i, d in enumerate(descriptions)
        if header[i] and _FREE_TEXT.search(d) and i not in scores.values() and not _NOT_METADATA.search(header[i])
    ]
    response_id = next((i for i, h in enumerate(header) if _RESPONSE_ID.match(h)), None)
    submitted = next((i for i, h in enumerate(header) if _SUBMITTED.search(h)), None)
    if not scores or not texts or (response_id is None and submitted is None):
        return None
    used = {*scores.values(), *texts, response_id, submitted}
    metadata = [
        header[i]
        for i, d in enumerate(descriptions)
        if i not in used and header[i] and not _NOT_METADATA.search(d) and not _NOT_METADATA.search(header[i])
    ][:_MAX_METADATA]
    if len({h.lower() for h in header}) < len(header):
        return None  # two columns of one name: a mapping could not tell them apart
    zone = _import_zone(rows, submitted) if skip == 2 else None
    try:
        fields = FieldMap(
            text=[header[i] for i in texts],
            conversation_id=header[response_id] if response_id is not None else None,
            time=header[submitted] if submitted is not None else None,
            metadata=metadata,
            **{name: header[i] for name, i in scores.items() if header[i]},
        )
        return Mapping(fields=fields, source="survey", channel="chat", skip_rows=skip, timezone=zone)
    except ValidationError:
        return None


def _import_zone(rows: list[list[str]], column: int | None) -> str | None:
    """Qualtrics writes times in the account's zone and names it in the ImportId row."""
    if column is None or len(rows) < 3 or column >= len(rows[2]):
        return None
    try:
        zone = json.loads(rows[2][column]).get("timeZone")
        ZoneInfo(zone)
    except (ValueError, TypeError, AttributeError, ZoneInfoNotFoundError):
        return None
    return str(zone)


def _first_rows(text: str, count: int = 3) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    if not any(d in first_line for d in DELIMITERS):
        return []
    delimiter = max(DELIMITERS, key=first_line.count)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) == count:
                break
    except csv.Error:
        return rows
    return rows


def _descriptions(header: list[str], following: list[list[str]]) -> tuple[list[str], int]:
    """What each column asks, and how many rows after the header are more header."""
    second = following[0] if following else []
    third = following[1] if len(following) > 1 else []
    if any(cell.lstrip().startswith('{"ImportId"') for cell in third) and len(second) == len(header):
        return [f"{h} {q}" for h, q in zip(header, second, strict=True)], 2  # Qualtrics
    answers = {cell.strip() for cell in second} & {"Response", "Open-Ended Response"}
    if answers and len(second) == len(header):
        return [f"{h} {a}" for h, a in zip(header, second, strict=True)], 1  # SurveyMonkey
    return header, 0


def _looks_like_survey(sniff: Sniff) -> bool:
    return bool(sniff.csv_header) and survey_mapping(sniff.text) is not None


FORMATS: list[Format] = [
    Format(
        "survey-csv",
        "chat",
        read_survey_csv,
        "NPS/CSAT/CES survey exports with free-text answers (CSV)",
        export="the survey tool's response download as CSV: Qualtrics (Data & Analysis → Export data), "
        "SurveyMonkey (Analyze results → Save as → All responses data, CSV), Typeform, Google Forms, Delighted",
        detect=_looks_like_survey,
    )
]

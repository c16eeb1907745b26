"""Batch scoring of ad-hoc exports without a store: ``vocmine classify``.

Input: plain text (one text per line), CSV (``text_column``) or JSON Lines (``text_field``); the
format comes from the file extension unless given. Output: one JSON object per input record, in
input order, with ``line`` (the record's line or row number) and either the task's result or an
``error`` saying why that record could not be scored (an empty text, a bad JSON line): nothing is
dropped silently.

Tasks: ``sentiment`` (label, score in [-1, 1], probabilities, for the whole text), ``journey``
(stage, confidence, probabilities; the text is segmented and the stage is the mean over its
segments, as for a conversation) and ``signals`` (flags with reason and evidence offsets).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, TextIO

from vocmine.errors import ConfigError
from vocmine.schema import UNSUPPORTED_LANGUAGE

TASKS = ("sentiment", "journey", "signals")
BATCH = 256


@dataclass
class Record:
    line: int
    text: str | None
    error: str | None = None


def read_records(
    path: Path, *, input_format: str | None, text_column: str | None, text_field: str | None
) -> Iterator[Record]:
    kind = input_format or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(path.suffix.lower(), "text")
    if kind not in ("text", "csv", "jsonl"):
        raise ConfigError(f"unknown input format {kind!r}", hint="use text, csv or jsonl")
    if kind == "csv" and not text_column:
        raise ConfigError("CSV input needs --text-column", hint="name the column that holds the text")
    if kind == "jsonl" and not text_field:
        raise ConfigError("JSONL input needs --text-field", hint="name the field that holds the text")
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="check the path") from exc
    with handle:
        if kind == "csv":
            yield from _csv(handle, text_column or "")
        elif kind == "jsonl":
            yield from _jsonl(handle, text_field or "")
        else:
            for number, line in enumerate(handle, start=1):
                yield _record(number, line.rstrip("\r\n"))


def _record(line: int, text: object) -> Record:
    if not isinstance(text, str):
        return Record(line, None, f"text is {type(text).__name__}, not a string")
    if not text.strip():
        return Record(line, None, "empty text")
    return Record(line, text)


def _csv(handle: TextIO, column: str) -> Iterator[Record]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise ConfigError(f"CSV has no column {column!r}", hint=f"columns: {', '.join(reader.fieldnames or [])}")
    for row in reader:
        yield _record(reader.line_num, row.get(column))


def _jsonl(handle: TextIO, field: str) -> Iterator[Record]:
    for number, line in enumerate(handle, start=1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(number, None, f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(value, dict) or field not in value:
            yield Record(number, None, f"no field {field!r}")
            continue
        yield _record(number, value[field])


class Classifier:
    def __init__(self, task: str, languages: frozenset[str] = frozenset({"en"})) -> None:
        if task not in TASKS:
            raise ConfigError(f"unknown task {task!r}", hint=f"choose from {', '.join(TASKS)}")
        self.task = task
        self.languages = languages  # what the models read; other texts get unsupported_language
        if task == "sentiment":
            from vocmine.analysis.sentiment.model import SentimentModel

            self.sentiment = SentimentModel()
        elif task == "journey":
            from vocmine.analysis.encoder import Encoder
            from vocmine.analysis.journey.model import JourneyHead

            self.encoder, self.head = Encoder(), JourneyHead.load()
        else:
            from vocmine.analysis.encoder import Encoder
            from vocmine.analysis.signals.detector import SignalDetector

            self.encoder, self.detector = Encoder(), SignalDetector.load()

    def score(self, texts: list[str]) -> list[dict[str, Any]]:
        """One result per text, each with its detected ``language``. A text in a language the models
        do not read gets the label ``unsupported_language`` (signals: the rules' flags only)."""
        from vocmine.language import UNDETERMINED, detect_language

        languages = [detect_language(text) for text in texts]
        readable = [language == UNDETERMINED or language in self.languages for language in languages]
        if self.task == "signals":
            results = self._signals(texts, readable)
        else:
            read = [text for text, ok in zip(texts, readable, strict=True) if ok]
            scored = iter((self._sentiment if self.task == "sentiment" else self._journey)(read) if read else [])
            results = [next(scored) if ok else {"label": UNSUPPORTED_LANGUAGE} for ok in readable]
        return [{**result, "language": language} for result, language in zip(results, languages, strict=True)]

    def _sentiment(self, texts: list[str]) -> list[dict[str, Any]]:
        version = self.sentiment.version
        return [
            {"label": p.label, "score": p.score, "probabilities": p.probabilities, "model_version": version}
            for p in self.sentiment.predict(texts)
        ]

    def _journey(self, texts: list[str]) -> list[dict[str, Any]]:
        from vocmine.analysis.segmenter import split_text

        pieces = [[text[s:e] for s, e in split_text(text)] for text in texts]
        vectors = self.encoder.encode([p for segments in pieces for p in segments])
        bounds = list(accumulate((len(segments) for segments in pieces), initial=0))
        texts_with_vectors = [(vectors[bounds[i] : bounds[i + 1]], segments) for i, segments in enumerate(pieces)]
        return [
            {
                "label": prediction.stage,
                "confidence": prediction.confidence,
                "probabilities": prediction.probabilities,
                "model_version": self.head.version,
            }
            for prediction in self.head.conversation_stages(texts_with_vectors)
        ]

    def _signals(self, texts: list[str], readable: list[bool]) -> list[dict[str, Any]]:
        from vocmine.analysis import segmenter
        from vocmine.schema import Conversation, Turn

        conversations = [
            Conversation(id="text", channel="chat", source="classify", turns=[Turn(role="customer", text=text)])
            for text in texts
        ]
        pieces = [segmenter.segment_conversation(c) for c in conversations]
        vectors = self.encoder.encode([p.text for segments in pieces for p in segments])
        results, offset = [], 0
        for conversation, segments, ok in zip(conversations, pieces, readable, strict=True):
            span = vectors[offset : offset + len(segments)]
            offset += len(segments)
            flags = self.detector.detect(conversation, segments, span, learned=ok)
            results.append(
                {
                    "flags": [
                        {
                            "signal": f.signal,
                            "severity": f.severity,
                            "reason": f.reason,
                            "probability": f.probability,
                            "detected_by": f.detected_by,
                            "evidence": [{"start": e.start, "end": e.end, "text": e.text} for e in f.evidence],
                        }
                        for f in flags
                    ],
                    "model_version": self.detector.version,
                }
            )
        return results


def classify_file(
    task: str,
    source: Path,
    target: Path,
    *,
    input_format: str | None = None,
    text_column: str | None = None,
    text_field: str | None = None,
) -> dict[str, int]:
    """Score every record of ``source`` into ``target``; returns counts of scored and failed records."""
    classifier = Classifier(task)
    counts = {"scored": 0, "errors": 0}
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        batch: list[Record] = []

        def flush() -> None:
            good = [r for r in batch if r.text is not None]
            scored = iter(classifier.score([r.text for r in good if r.text is not None]) if good else [])
            for record in batch:
                if record.text is None:
                    row: dict[str, Any] = {"line": record.line, "error": record.error}
                    counts["errors"] += 1
                else:
                    row = {"line": record.line, **next(scored)}
                    counts["scored"] += 1
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            batch.clear()

        for record in read_records(source, input_format=input_format, text_column=text_column, text_field=text_field):
            batch.append(record)
            if len(batch) >= BATCH:
                flush()
        flush()
    return counts

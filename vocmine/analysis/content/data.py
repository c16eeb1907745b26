"""Real customer segments from ../shared/data, addressed by ``<source>:<row id>:<segment>``, for the
content filter's hand-labelled sample (``models/content/labels.jsonl`` keeps only ids and labels;
the texts are read back from the data folder, never copied into the repository).

Sources: customer tweets in support threads (twcs_sample, inbound only), tweets to US airlines, and
consumer complaint narratives (CFPB). Each text is cut by the product's segmenter, so the sample
holds exactly the kind of piece the filter sees.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from vocmine.analysis.segmenter import split_text
from vocmine.errors import ConfigError

SOURCES = ("twcs", "airline", "cfpb")


def _rows(data: Path, source: str) -> Iterator[tuple[str, str]]:
    """(row id, text) of each customer text of a source."""
    if source == "twcs":
        path = data / "twcs_sample" / "twcs_first5000.csv"
        for row in _csv(path):
            if row["inbound"] == "True" and row["text"].strip():
                yield row["tweet_id"], row["text"]
    elif source == "airline":
        for row in _csv(data / "airline" / "Tweets.csv"):
            yield row["tweet_id"], row["text"]
    elif source == "cfpb":
        for row in _csv(data / "cfpb_complaints_sample" / "complaints_sample.csv"):
            if row["Consumer complaint narrative"].strip():
                yield row["Complaint ID"], row["Consumer complaint narrative"]
    else:
        raise ConfigError(f"unknown segment source {source!r}", hint=f"use one of {', '.join(SOURCES)}")


def _csv(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        raise ConfigError(f"{path} is missing", hint="pass the shared data folder (../shared/data)")
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def real_segments(data: Path, source: str) -> Iterator[tuple[str, str]]:
    """(segment id, segment text) for every segment of every customer text of ``source``."""
    for row_id, text in _rows(Path(data), source):
        for number, (start, end) in enumerate(split_text(text)):
            yield f"{source}:{row_id}:{number}", text[start:end]


def segment_texts(data: Path, ids: set[str]) -> dict[str, str]:
    """The texts of the given segment ids (what the labels in the repository refer to)."""
    found: dict[str, str] = {}
    for source in sorted({i.split(":", 1)[0] for i in ids}):
        for segment_id, text in real_segments(data, source):
            if segment_id in ids:
                found[segment_id] = text
    return found

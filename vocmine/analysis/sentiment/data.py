"""Labelled sentiment data from ../shared/data: SemEval 2013–2016 Task 4A tweets, the US airline
tweets, and the TweetEval validation split (evaluation only, never trained on).

Texts are normalised the way TweetEval writes them (user mentions as "@user", links as "http")
so that training and evaluation see the same surface forms, and training texts that also occur
in the TweetEval validation split (after folding case and white space) are dropped.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # index into LABELS
    source: str


def normalise_tweet(text: str) -> str:
    return _URL.sub("http", _MENTION.sub("@user", text)).strip()


def fold(text: str) -> str:
    """The key used to find the same tweet in two data sets."""
    return " ".join(normalise_tweet(text).lower().split())


def load_semeval(folder: Path) -> list[Example]:
    examples = []
    for path in sorted(folder.glob("twitter-*-A.txt")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                parts = line.rstrip("\n").rstrip("\t").split("\t")
                if len(parts) >= 3 and parts[1] in LABELS:
                    examples.append(Example(normalise_tweet(parts[2]), LABELS.index(parts[1]), path.stem))
    return examples


def load_airline(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Example(normalise_tweet(row["text"]), LABELS.index(row["airline_sentiment"]), "airline")
            for row in csv.DictReader(handle)
            if row["airline_sentiment"] in LABELS
        ]


def load_tweeteval_val(folder: Path) -> list[Example]:
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    return [Example(normalise_tweet(t), int(label), "tweeteval-val") for t, label in zip(texts, labels, strict=False)]


def training_pool(data: Path) -> tuple[list[Example], dict[str, int]]:
    """SemEval + airline, deduplicated by folded text, without any TweetEval validation tweet.
    Returns the examples and counts of what was dropped, for the model card."""
    held_out = {fold(e.text) for e in load_tweeteval_val(data / "tweeteval_sentiment")}
    seen: set[str] = set()
    kept: list[Example] = []
    dropped = {"duplicate": 0, "in_tweeteval_val": 0}
    for example in load_semeval(data / "semeval_twitter_sentiment") + load_airline(data / "airline" / "Tweets.csv"):
        key = fold(example.text)
        if key in held_out:
            dropped["in_tweeteval_val"] += 1
        elif key in seen:
            dropped["duplicate"] += 1
        else:
            seen.add(key)
            kept.append(example)
    return kept, dropped

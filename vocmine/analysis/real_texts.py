"""Real customer texts from ../shared/data, addressed by (source, id), for the hand-labelled
examples the journey, signal and content heads are trained and measured on. The label files in
``models/`` hold only source, id and labels; the texts are read back from the data folder here and
never copied into the repository.

Sources and their ids: customer tweets to brands (``twcs``, TWCS sample, inbound only, tweet id),
tweets to US airlines (``airline``, tweet id), restaurant review sentences (``restaurants``, SemEval
2014 sentence id), consumer complaint narratives (``cfpb``, complaint id), banking queries
(``banking77``, row number in train.csv), customer-service requests (``bitext``, row number in the
CSV).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from vocmine.errors import ConfigError

Texts = dict[tuple[str, str], str]


def _twcs(data: Path, texts: Texts) -> None:
    raw = (data / "twcs_sample" / "twcs_first5000.csv").read_text(encoding="utf-8").replace("\r", " ")
    for row in csv.DictReader(io.StringIO(raw)):
        if row["inbound"] == "True":
            texts[("twcs", row["tweet_id"])] = row["text"]


def _airline(data: Path, texts: Texts) -> None:
    with (data / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.setdefault(("airline", row["tweet_id"]), row["text"])


def _restaurants(data: Path, texts: Texts) -> None:
    for sentence in ET.parse(data / "semeval2014_restaurants" / "Restaurants_Train_v2.xml").getroot():
        text = sentence.findtext("text")
        if text:
            texts[("restaurants", sentence.get("id", ""))] = text


def _cfpb(data: Path, texts: Texts) -> None:
    with (data / "cfpb_complaints_sample" / "complaints_sample.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Consumer complaint narrative"].strip():
                texts[("cfpb", row["Complaint ID"])] = row["Consumer complaint narrative"]


def _banking77(data: Path, texts: Texts) -> None:
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            texts[("banking77", str(number))] = row["text"]


def _bitext(data: Path, texts: Texts) -> None:
    path = data / "bitext_cs" / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            texts[("bitext", str(number))] = row["utterance"]


READERS: dict[str, Callable[[Path, Texts], None]] = {
    "twcs": _twcs,
    "airline": _airline,
    "restaurants": _restaurants,
    "cfpb": _cfpb,
    "banking77": _banking77,
    "bitext": _bitext,
}
# What the journey examples and the topic bench have always read; bitext is asked for by name.
DEFAULT_SOURCES = ("twcs", "airline", "restaurants", "cfpb", "banking77")


def load_real_texts(data: Path, sources: Iterable[str] = DEFAULT_SOURCES) -> Texts:
    texts: Texts = {}
    for source in sources:
        READERS[source](data, texts)
    return texts


def labelled_rows(labels: Path, texts: Texts) -> Iterator[tuple[str, tuple[str, str], dict[str, Any], str]]:
    """Each row of a label file (JSON lines with source and id) with its place ("file:line"), its key
    and its text; a row whose text is not in ``texts`` is a ConfigError naming the line."""
    for number, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        key = (row["source"], str(row["id"]))
        if key not in texts:
            raise ConfigError(f"{labels}:{number}: no text for {key}", hint="check the data folder (--data)")
        yield f"{labels}:{number}", key, row, texts[key]

"""Real customer texts from ../shared/data, addressed by (source, id), for the journey head's
hand-labelled examples (``models/journey/real_examples.jsonl`` holds only source, id and stage;
the texts are read back from the data folder, never copied into the repository).

Sources: customer tweets to brands (TWCS sample, inbound only), tweets to US airlines, restaurant
review sentences (SemEval 2014), consumer complaint narratives (CFPB), banking queries (Banking77,
id = row number in train.csv).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from vocmine.errors import ConfigError
from vocmine.resources import model_dir

REAL_EXAMPLES = model_dir("journey") / "real_examples.jsonl"


def load_real_texts(data: Path) -> dict[tuple[str, str], str]:
    texts: dict[tuple[str, str], str] = {}
    raw = (data / "twcs_sample" / "twcs_first5000.csv").read_text(encoding="utf-8").replace("\r", " ")
    for row in csv.DictReader(io.StringIO(raw)):
        if row["inbound"] == "True":
            texts[("twcs", row["tweet_id"])] = row["text"]
    with (data / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.setdefault(("airline", row["tweet_id"]), row["text"])
    for sentence in ET.parse(data / "semeval2014_restaurants" / "Restaurants_Train_v2.xml").getroot():
        text = sentence.findtext("text")
        if text:
            texts[("restaurants", sentence.get("id", ""))] = text
    with (data / "cfpb_complaints_sample" / "complaints_sample.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Consumer complaint narrative"].strip():
                texts[("cfpb", row["Complaint ID"])] = row["Consumer complaint narrative"]
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            texts[("banking77", str(number))] = row["text"]
    return texts


def load_real_examples(data: Path, labels: Path = REAL_EXAMPLES) -> list[tuple[str, str, str]]:
    """(text, stage, source) for every labelled example."""
    texts = load_real_texts(data)
    examples = []
    for number, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        key = (row["source"], str(row["id"]))
        if key not in texts:
            raise ConfigError(f"{labels}:{number}: no text for {key} in {data}", hint="check the data folder")
        examples.append((texts[key], row["stage"], row["source"]))
    return examples

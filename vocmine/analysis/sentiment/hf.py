"""Sentiment from any Hugging Face sequence-classification model, by hub name or local folder.

For users with hub access or their own fine-tuned model (``VOCMINE_SENTIMENT_MODEL=<name or path>``).
Such a model does not share the encoder's layers, so the embedding needs a pass of its own; the
pipeline handles that. Hub downloads follow the usual Hugging Face settings: vocmine sets
``HF_HUB_OFFLINE=1`` only when it is unset, so set ``HF_HUB_OFFLINE=0`` to allow them.

The model's labels (``config.id2label``) are mapped onto negative / neutral / positive:
names containing neg / neu / pos (any case: "NEGATIVE", "LABEL_NEG"), star ratings ("1 star" …
"5 stars": 1–2 negative, 3 neutral, 4–5 positive), and the bare ``LABEL_0..`` names of two-class
(negative, positive) and three-class (negative, neutral, positive) models. Anything else is a
ConfigError listing the labels found. Probabilities of labels mapped to the same class are added;
a two-class model gives neutral a probability of 0.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.sentiment.data import LABELS
from vocmine.analysis.sentiment.model import SentimentPrediction, prediction_from_probabilities
from vocmine.errors import ConfigError

_STARS = re.compile(r"^([1-5])\s*stars?$")


def map_labels(id2label: dict[int, str]) -> list[int]:
    """Index into LABELS for each of the model's output positions."""
    names = [str(id2label[i]).strip().lower() for i in range(len(id2label))]
    if all(re.fullmatch(r"label_\d+", n) for n in names) and len(names) in (2, 3):
        return [0, 2] if len(names) == 2 else [0, 1, 2]
    mapped = []
    for name in names:
        stars = _STARS.match(name)
        if stars:
            mapped.append({1: 0, 2: 0, 3: 1, 4: 2, 5: 2}[int(stars.group(1))])
        elif "neg" in name:
            mapped.append(0)
        elif "neu" in name:
            mapped.append(1)
        elif "pos" in name:
            mapped.append(2)
        else:
            raise ConfigError(
                f"cannot map the sentiment model's label {id2label!r} onto negative/neutral/positive",
                hint="use a model whose labels name the polarity (negative, neutral, positive) or stars",
            )
    return mapped


def model_revision(model_name: str) -> str | None:
    """What identifies the exact weights: for a local folder, a hash of its files' contents; for a hub
    model, the commit of the cached snapshot it loaded from (the cache keeps each commit in
    ``snapshots/<commit>/``, a layout huggingface_hub documents)."""
    folder = Path(model_name)
    if folder.is_dir():
        digest = hashlib.sha256()
        for file in sorted(f for f in folder.iterdir() if f.is_file()):
            digest.update(file.name.encode() + b"\0")
            with file.open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
        return digest.hexdigest()[:12]
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model_name, "config.json")
    if isinstance(cached, str) and Path(cached).parent.parent.name == "snapshots":
        return Path(cached).parent.name[:12]
    return None


class HuggingFaceSentiment:
    """Loads on first use, once."""

    shares_encoder = False

    def __init__(self, model: str, *, batch_size: int = 32, max_tokens: int = 128) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._loaded: Any = None
        self._revision: str | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._loaded is None:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                prepare_model_loading()

                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.model_name)
                    model = AutoModelForSequenceClassification.from_pretrained(self.model_name).eval()
                except (OSError, ValueError) as exc:
                    raise ConfigError(
                        f"cannot load the Hugging Face sentiment model {self.model_name!r}: {exc}",
                        hint="give a local model folder, or allow hub downloads with HF_HUB_OFFLINE=0",
                    ) from exc
                self._loaded = (tokenizer, model, map_labels(model.config.id2label))
        return self._loaded

    @property
    def version(self) -> str:
        self._load()  # a model that cannot load has no version to record
        if self._revision is None:  # hashing a local model's weights is done once
            self._revision = model_revision(self.model_name) or ""
        return f"hf:{self.model_name}" + (f"@{self._revision}" if self._revision else "")

    def predict(self, texts: list[str]) -> list[SentimentPrediction]:
        import torch

        tokenizer, model, mapping = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows: list[np.ndarray] = [np.zeros(0)] * len(texts)
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                probabilities = torch.softmax(model(**batch).logits, dim=-1).numpy()
                for i, row in zip(idx, probabilities, strict=True):
                    summed = np.zeros(len(LABELS))
                    np.add.at(summed, mapping, row)
                    rows[i] = summed
        return [prediction_from_probabilities(row) for row in rows]

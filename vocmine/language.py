"""The language of a text, for ingestion (each conversation's language is recorded) and analysis (the
models read only the languages they were trained on). Shared by both layers, so it sits beside the
records rather than in either."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import Any

import numpy as np

UNDETERMINED = "und"  # ISO 639-2 for undetermined

# Language identification is unreliable on very short text; below these we say "und" (ISO 639-2
# for undetermined) instead of guessing.
MIN_CHARS_FOR_LANGUAGE = 12
MIN_LANGUAGE_CONFIDENCE = 0.6


# The identifier's automaton (py3langid's shipped model) is in the same state after this many bytes
# whatever state it started in: a byte's state depends only on the bytes just before it. So every
# byte's state can be found at once, walking windows of this many bytes side by side in numpy, instead
# of one byte at a time in Python (about 3x faster, identical states; tests/unit/test_language_walk.py
# checks the property on the installed model).
SYNC_BYTES = 6


@lru_cache(maxsize=1)
def _scorer() -> WindowedIdentifier:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return WindowedIdentifier(LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True))


class WindowedIdentifier:
    """py3langid's ``classify`` (with ``norm_probs``), its byte walk done a window at a time and its
    feature table widened once from float16 to the float32 numpy computes in anyway (57 MB, shared by
    forked workers): the features, their order and the arithmetic on them are py3langid's, so the
    scores are bit-identical, about 2.5x sooner on a paragraph."""

    def __init__(self, identifier: Any) -> None:
        moves = identifier.tk_nextmove  # stdlib arrays of unsigned ints: viewed, not copied
        self.nextmove = np.frombuffer(moves, dtype=f"u{moves.itemsize}")
        rows = identifier.tk_row
        self.rowbase = np.frombuffer(rows, dtype=f"u{rows.itemsize}").astype(np.int64) << 8
        self.output = np.asarray(identifier.tk_output, dtype=np.int64)
        self.ptc = np.asarray(identifier.nb_ptc, dtype=np.float32)
        self.pc = identifier.nb_pc
        self.classes: list[str] = list(identifier.nb_classes)
        first: dict[str, int] = {}
        self.aliases: list[tuple[int, int]] = []  # (first, duplicate) columns of a label listed twice
        for i, label in enumerate(self.classes):
            if label in first:
                self.aliases.append((first[label], i))
            else:
                first[label] = i

    def features(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The features the walk visits, in the order first visited, and how often."""
        text = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
        states = np.zeros(len(text), dtype=self.nextmove.dtype)
        for back in range(SYNC_BYTES - 1, -1, -1):  # byte i takes bytes i-5 .. i from the start state
            states[back:] = self.nextmove[self.rowbase[states[back:]] + text[: len(text) - back]]
        found = self.output[states]
        found = found[found >= 0]
        unique, first, counts = np.unique(found, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        return unique[order].astype(np.intp), counts[order].astype(np.float32)

    def classify(self, text: str) -> tuple[str, float]:
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
        index, counts = self.features(data)
        if len(index):
            scores = np.log1p(counts) @ self.ptc[index] + self.pc
        else:
            scores = np.full(len(self.classes), 0.0, dtype=np.float32)
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for i, j in self.aliases:
            scores[i] += scores[j]
            scores[j] = 0.0
        best = int(scores.argmax())
        return self.classes[best], float(scores[best])


def load_language_model() -> None:
    """Load the identifier now (about half a second), e.g. once before forking workers that share it."""
    _scorer()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it is too short or unclear."""
    sample = re.sub(r"https?://\S+|@\w+|#|\[[A-Z_]+\]", " ", text)
    if len(sample.strip()) < MIN_CHARS_FOR_LANGUAGE:
        return UNDETERMINED
    code, confidence = _scorer().classify(sample[:2000])
    return code if confidence >= MIN_LANGUAGE_CONFIDENCE else UNDETERMINED

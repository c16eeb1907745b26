"""Readable theme labels and keywords: key phrases that the theme's own segments contain, ranked by
class-based TF-IDF against the other themes (BERTopic's c-TF-IDF, over contiguous phrases).

* Candidates are runs of 1–3 words taken verbatim from the segments. They never start or end with
  a stop word and never repeat a word. Mentions, links, redaction placeholders and numbers are
  not words customers chose.
* A phrase scores by the share of the theme's texts that contain it, times ``log(1 + A / f)``: ``f``
  is how often it occurs in every theme, and ``A`` is the mean number of phrases per theme. Phrases
  common everywhere ("customer service") rank low; phrases typical of this theme rank high.
* The label is the best phrase of two or three words whose score is at least ``LABEL_SHARE`` of the
  best one's, else the best single word. Phrases that the filler rule reads as filler on their own
  ("Brilliant", "Waiting") are passed over while the theme has another phrase: a label names a
  subject. It is written as customers most often wrote it (so
  "eSIM", not "esim") and starts with a capital: "eSIM activation", "Refund", "Router lights".
* The keywords are the best phrases, distinct: never empty, never a phrase twice, never a
  phrase that only repeats a word.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from vocmine.analysis.content.rules import is_rule_filler

LABEL_SHARE = 0.5
KEYWORDS = 8
_NOISE = re.compile(r"@\w+|https?://\S+|www\.\S+|\[[A-Z_]+\]|\bX{2,}\b")
_WORD = re.compile(r"(?<![\w'’])[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)?")  # "15th" holds no word
_SENTENCE = re.compile(r"[.!?;:,()\n\"“”]+")
_JOINERS = {"of", "for", "on", "in", "to", "with", "and"}  # allowed inside a three-word phrase


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words and ours; read on first use (the analysis extra's library:
    a core install imports this module through the CLI without ever labelling a theme)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    contractions = "i'm i've i'll i'd it's that's don't can't won't didn't doesn't isn't wasn't there's you're we're"
    chatter = "thanks thank hi hello hey please ok okay yes no just really got get ve ll"
    # Words of time and of keeping on: a phrase does not end with them ("phone today", "checkout keeps").
    weak = "today yesterday tomorrow morning tonight now ago time times week weeks day days keeps kept new"
    return frozenset(ENGLISH_STOP_WORDS) | frozenset(f"{contractions} {chatter} {weak}".split())


@dataclass(frozen=True)
class ThemeWords:
    label: str
    keywords: list[str]


def _phrases(text: str) -> tuple[list[str], list[str]]:
    """The lowercase key and the surface form of each candidate phrase in ``text``, in order: per
    sentence the single words, then the pairs, then the triples."""
    stop = stop_words()
    keys: list[str] = []
    surfaces: list[str] = []
    for sentence in _SENTENCE.split(_NOISE.sub(" ", text)):
        words = _WORD.findall(sentence)
        if not words:
            continue
        lower = [w.lower().replace("’", "'") for w in words]
        stopped = [w in stop for w in lower]
        n = len(words)
        for i in range(n):
            if not stopped[i]:
                keys.append(lower[i])
                surfaces.append(words[i])
        for i in range(n - 1):
            # A pair holds no stop word and no word twice.
            if not stopped[i] and not stopped[i + 1] and lower[i] != lower[i + 1]:
                keys.append(f"{lower[i]} {lower[i + 1]}")
                surfaces.append(f"{words[i]} {words[i + 1]}")
        for i in range(n - 2):
            # A triple starts and ends with a word that is not a stop word, may hold a joiner
            # between them ("speed of light"), and never repeats a word.
            first, middle, last = lower[i], lower[i + 1], lower[i + 2]
            if stopped[i] or stopped[i + 2] or (stopped[i + 1] and middle not in _JOINERS):
                continue
            if first in (middle, last) or middle == last:
                continue
            keys.append(f"{first} {middle} {last}")
            surfaces.append(f"{words[i]} {words[i + 1]} {words[i + 2]}")
    return keys, surfaces


def describe(texts_by_theme: Sequence[Sequence[str]], keywords: int = KEYWORDS) -> list[ThemeWords]:
    """A label and keywords for each theme, from its texts (one list per theme, in order)."""
    per_theme: list[Counter[str]] = []
    # Every (phrase, surface form) occurrence, in the order met: a phrase is written as its commonest
    # surface form, the first met among equals.
    occurrences: Counter[tuple[str, str]] = Counter()
    for texts in texts_by_theme:
        found: Counter[str] = Counter()
        for text in texts:
            keys, forms = _phrases(text)
            occurrences.update(zip(keys, forms, strict=True))
            found.update(set(keys))  # a text votes once for a phrase
        per_theme.append(found)
    everywhere: Counter[str] = Counter()
    for found in per_theme:
        everywhere.update(found)
    average = sum(everywhere.values()) / max(1, len(per_theme))
    described = []
    for texts, found in zip(texts_by_theme, per_theme, strict=True):
        scores = {
            key: (count / max(1, len(texts))) * math.log(1 + average / everywhere[key])
            for key, count in found.items()
            if count >= 2 or len(texts) < 4  # a phrase of one text is an accident, unless the theme is tiny
        }
        ranked = sorted(scores, key=lambda k: (-scores[k], k))
        described.append(ThemeWords(_label(ranked, scores), _keywords(ranked, keywords)))
    return _distinct(_written(described, occurrences))


def _distinct(described: list[ThemeWords]) -> list[ThemeWords]:
    """Two themes never share a label: a repeated one gets the theme's first keyword it lacks
    ("Duplicate charge · agreed")."""
    seen: Counter[str] = Counter(d.label for d in described)
    used: set[str] = set()
    out = []
    for words in described:
        label = words.label
        if seen[label] > 1 or label in used:
            extra = next((k for k in words.keywords if k not in label.lower() and f"{label} · {k}" not in used), None)
            label = f"{label} · {extra}" if extra else label
        used.add(label)
        out.append(ThemeWords(label, words.keywords))
    return out


def _label(ranked: list[str], scores: dict[str, float]) -> str:
    """The chosen phrase's key; ``_written`` turns it into the customers' spelling."""
    if not ranked:
        return ""
    # Only the first 15 phrases that are no filler are read.
    subjects = list(itertools.islice((k for k in ranked if not is_rule_filler(k)), 15)) or ranked[:15]
    best = scores[subjects[0]]
    phrases = [k for k in subjects if " " in k and scores[k] >= LABEL_SHARE * best]
    return phrases[0] if phrases else subjects[0]


def _written(described: list[ThemeWords], occurrences: Counter[tuple[str, str]]) -> list[ThemeWords]:
    """Each label as customers most often wrote it (the first met among equals), starting with a
    capital: "refund delays" → "Refund delays", but "eSIM activation" stays as written."""
    wanted = {words.label for words in described if words.label}
    best: dict[str, tuple[str, int]] = {}
    for (key, surface), count in occurrences.items():
        if key in wanted and count > best.get(key, ("", 0))[1]:
            best[key] = (surface, count)
    out = []
    for words in described:
        if not words.label:
            out.append(words)
            continue
        first, _, rest = best[words.label][0].partition(" ")
        if first.islower():
            first = first[0].upper() + first[1:]
        out.append(ThemeWords(f"{first} {rest}".strip(), words.keywords))
    return out


def _keywords(ranked: list[str], limit: int) -> list[str]:
    chosen: list[str] = []
    for key in ranked:
        if key not in chosen:
            chosen.append(key)
        if len(chosen) == limit:
            break
    return chosen

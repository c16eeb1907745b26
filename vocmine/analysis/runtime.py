"""Where the models run: the device (``VOCMINE_DEVICE``) and the encoder backend (``VOCMINE_ENCODER_BACKEND``).

``auto`` is what a user who sets nothing gets, and it is the fast choice for the machine at hand:

* device ``auto``: the first CUDA GPU when torch sees one, else the CPU;
* backend ``auto``: ONNX Runtime on the CPU when onnxruntime and onnx are installed (the same float32
  MiniLM: on our 2 cores it loads in 2-3 s instead of 5-10 and the analysis takes about 0.85x the CPU
  time, bench/throughput.py --old), torch on a GPU (its CUDA kernels are what the GPU is for) or when
  ONNX Runtime is missing.

Both backends give the same vectors (to float rounding: tests/unit/analysis/test_onnx_backend.py),
so a store analysed by one is consistent with the other and they share the embedding cache.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Literal

from vocmine.errors import ConfigError

Backend = Literal["torch", "onnx"]
BACKEND_CHOICES = ("auto", "torch", "onnx")


def configured_device(device: str | None) -> str:
    """A device given in code, else the environment's (``VOCMINE_DEVICE``, as Settings reads it), else auto:
    so a model built without Settings (training commands, benches) runs where the user said."""
    return device or os.environ.get("VOCMINE_DEVICE") or "auto"


def configured_backend(backend: str | None) -> str:
    """A backend given in code, else ``VOCMINE_ENCODER_BACKEND``, else auto."""
    return backend or os.environ.get("VOCMINE_ENCODER_BACKEND") or "auto"


@functools.cache
def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str) -> str:
    """``auto`` made concrete; anything else (``cpu``, ``cuda``, ``cuda:1``, ``mps``) as given."""
    device = device.strip().lower() or "auto"
    if device != "auto":
        return device
    return "cuda" if _cuda_available() else "cpu"


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (found without importing it)."""
    return importlib.util.find_spec(module) is not None


def onnx_backend_installed() -> bool:
    return installed("onnxruntime") and installed("onnx")


def resolve_backend(backend: str, device: str) -> Backend:
    """The backend ``backend`` means on ``device`` (already resolved)."""
    if backend == "torch":
        return "torch"
    if backend == "onnx":
        if device != "cpu":
            raise ConfigError(
                f"the onnx encoder backend runs on the CPU, not on {device!r}",
                hint="set VOCMINE_ENCODER_BACKEND=torch (or auto) to use the GPU, or VOCMINE_DEVICE=cpu",
            )
        return "onnx"
    if backend != "auto":
        raise ConfigError(f"unknown encoder backend {backend!r}", hint=f"use one of {', '.join(BACKEND_CHOICES)}")
    return "onnx" if device == "cpu" and onnx_backend_installed() else "torch"


class Placement:
    """Where a model runs, for the classes that run one (Encoder, SentimentModel): the settings as given
    (else the environment's, else auto), resolved on first use rather than at construction, because
    ``auto`` imports torch to look for a GPU and building a model object must stay cheap."""

    def __init__(self, device: str | None, backend: str | None) -> None:
        self.device_setting = configured_device(device)
        self.backend_setting = configured_backend(backend)

    @functools.cached_property
    def device(self) -> str:
        return resolve_device(self.device_setting)

    @functools.cached_property
    def backend(self) -> str:
        return resolve_backend(self.backend_setting, self.device)

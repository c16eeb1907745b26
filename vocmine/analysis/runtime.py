"""Where and how the models run: the device (``VOCMINE_DEVICE``), the encoder backend
(``VOCMINE_ENCODER_BACKEND``) and the precision of the MiniLM pass (``VOCMINE_ENCODER_PRECISION``).

``auto`` is what a user who sets nothing gets, and it is the fast choice for the machine at hand:

* device ``auto``: the first CUDA GPU when torch sees one, else the CPU;
* precision ``auto``: bfloat16 on a CPU that computes it in hardware (AVX512-BF16 or AMX: Xeon since
  Cooper Lake, EPYC since Genoa), float32 everywhere else. torch runs the matrix products and the
  attention in bfloat16 (``torch.autocast``; the residual stream and its normalisation stay float32):
  on our 2 cores the MiniLM pass takes about half the time, and the vectors stay within cosine
  0.9999 of float32's (tests/unit/analysis/test_precision.py; every task's quality within 0.005 or
  better: bench/results/quality-precision.json). Where bfloat16 is emulated it is slower than
  float32, hence the hardware check;
* backend ``auto``: torch when it runs in bfloat16 or on a GPU (its CUDA kernels are what the GPU
  is for); otherwise ONNX Runtime on the CPU when onnxruntime and onnx are installed (the same
  float32 MiniLM, which loads faster and runs a little faster than torch's float32), else torch.

The backends and precisions give the same vectors to within that cosine, so a store analysed by one is
consistent with the others and they share the embedding cache and the encoder's version.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

from vocmine.errors import ConfigError

Backend = Literal["torch", "onnx"]
BACKEND_CHOICES = ("auto", "torch", "onnx")
Precision = Literal["float32", "bfloat16"]
PRECISION_CHOICES = ("auto", "float32", "bfloat16")


def configured_device(device: str | None) -> str:
    """A device given in code, else the environment's (``VOCMINE_DEVICE``, as Settings reads it), else auto:
    so a model built without Settings (training commands, benches) runs where the user said."""
    return device or os.environ.get("VOCMINE_DEVICE") or "auto"


def configured_backend(backend: str | None) -> str:
    """A backend given in code, else ``VOCMINE_ENCODER_BACKEND``, else auto."""
    return backend or os.environ.get("VOCMINE_ENCODER_BACKEND") or "auto"


def configured_precision(precision: str | None) -> str:
    """A precision given in code, else ``VOCMINE_ENCODER_PRECISION``, else auto."""
    return precision or os.environ.get("VOCMINE_ENCODER_PRECISION") or "auto"


@functools.cache
def cpu_has_native_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX-BF16). Read from the kernel's CPU
    flags, so on a system without /proc/cpuinfo the answer is no and auto keeps float32."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


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


def _check_precision(precision: str) -> str:
    precision = precision.strip().lower() or "auto"
    if precision not in PRECISION_CHOICES:
        raise ConfigError(f"unknown encoder precision {precision!r}", hint=f"use one of {', '.join(PRECISION_CHOICES)}")
    return precision


def resolve_backend(backend: str, device: str, precision: str = "auto") -> Backend:
    """The backend ``backend`` means on ``device`` (already resolved) at ``precision`` (as configured)."""
    precision = _check_precision(precision)
    if backend == "torch":
        return "torch"
    if backend == "onnx":
        if device != "cpu":
            raise ConfigError(
                f"the onnx encoder backend runs on the CPU, not on {device!r}",
                hint="set VOCMINE_ENCODER_BACKEND=torch (or auto) to use the GPU, or VOCMINE_DEVICE=cpu",
            )
        if precision == "bfloat16":
            raise ConfigError(
                "the onnx encoder backend runs in float32, not bfloat16",
                hint="set VOCMINE_ENCODER_BACKEND=torch (or auto) for bfloat16, or VOCMINE_ENCODER_PRECISION=float32",
            )
        return "onnx"
    if backend != "auto":
        raise ConfigError(f"unknown encoder backend {backend!r}", hint=f"use one of {', '.join(BACKEND_CHOICES)}")
    if device != "cpu" or precision == "bfloat16" or (precision == "auto" and cpu_has_native_bfloat16()):
        return "torch"
    return "onnx" if onnx_backend_installed() else "torch"


def resolve_precision(precision: str, device: str, backend: Backend) -> Precision:
    """The precision ``precision`` means for ``backend`` on ``device`` (both already resolved)."""
    precision = _check_precision(precision)
    if precision == "float32":
        return "float32"
    if precision == "bfloat16":
        return "bfloat16"  # resolve_backend has refused it with onnx
    return "bfloat16" if backend == "torch" and device == "cpu" and cpu_has_native_bfloat16() else "float32"


class Placement:
    """Where and how a model runs, for the classes that run one (Encoder, SentimentModel): the settings
    as given (else the environment's, else auto), resolved on first use rather than at construction,
    because ``auto`` imports torch to look for a GPU and building a model object must stay cheap."""

    def __init__(self, device: str | None, backend: str | None, precision: str | None = None) -> None:
        self.device_setting = configured_device(device)
        self.backend_setting = configured_backend(backend)
        self.precision_setting = configured_precision(precision)

    @functools.cached_property
    def device(self) -> str:
        return resolve_device(self.device_setting)

    @functools.cached_property
    def backend(self) -> Backend:
        return resolve_backend(self.backend_setting, self.device, self.precision_setting)

    @functools.cached_property
    def precision(self) -> Precision:
        return resolve_precision(self.precision_setting, self.device, self.backend)

    def autocast(self) -> Any:
        """The context a torch forward pass runs in: bfloat16 matrix products where the precision says
        so, else nothing changes."""
        if self.precision != "bfloat16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(self.device.split(":", 1)[0], dtype=torch.bfloat16)

"""The encoder's precision: bfloat16 on CPUs that have it, float32 elsewhere, the same vectors either way."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis import runtime
from vocmine.analysis.encoder import DEFAULT_MODEL, Encoder, encoder_version
from vocmine.analysis.runtime import cpu_has_native_bfloat16, resolve_backend, resolve_precision
from vocmine.analysis.sentiment.model import SentimentModel
from vocmine.errors import ConfigError
from vocmine.settings import Settings

TEXTS = [
    "My flight was cancelled and nobody at the desk could tell me why.",
    "thanks so much, the replacement arrived this morning and works perfectly",
    "I want to close my account. This is the third time you charged me twice!!",
    "where do I find the invoice for order 48213?",
    "@support hi",
    "Your agent was rude and hung up on me. I'm taking this to the ombudsman.",
]


def test_cpu_flags_decide_whether_bfloat16_is_native(tmp_path):
    with_bf16 = tmp_path / "with"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n\n")
    without = tmp_path / "without"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n\n")
    amx = tmp_path / "amx"
    amx.write_text("flags\t\t: fpu avx512f amx_bf16 amx_tile\n")
    assert cpu_has_native_bfloat16(with_bf16) and cpu_has_native_bfloat16(amx)
    assert not cpu_has_native_bfloat16(without)
    assert not cpu_has_native_bfloat16(tmp_path / "missing")  # no /proc (macOS, Windows): float32


@pytest.mark.parametrize("native", [True, False])
def test_auto_means_bfloat16_only_on_a_cpu_that_computes_it(monkeypatch, native):
    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: native)
    monkeypatch.setattr(runtime, "onnx_backend_installed", lambda: True)
    backend = resolve_backend("auto", "cpu", "auto")
    assert backend == ("torch" if native else "onnx")
    assert resolve_precision("auto", "cpu", backend) == ("bfloat16" if native else "float32")
    # asked for float32, the CPU gets the faster float32 runtime; asked for bfloat16, torch
    assert resolve_backend("auto", "cpu", "float32") == "onnx"
    assert resolve_backend("auto", "cpu", "bfloat16") == "torch"
    assert resolve_precision("auto", "cpu", "onnx") == "float32"
    assert resolve_precision("auto", "cuda", "torch") == "float32"  # GPUs keep float32 unless told
    assert resolve_precision(" BFloat16 ", "cuda", "torch") == "bfloat16"


def test_a_precision_that_cannot_run_says_what_to_change():
    with pytest.raises(ConfigError, match="runs in float32") as refused:
        resolve_backend("onnx", "cpu", "bfloat16")
    assert "VOCMINE_ENCODER_PRECISION=float32" in (refused.value.hint or "")
    with pytest.raises(ConfigError, match="unknown encoder precision") as unknown:
        resolve_backend("auto", "cpu", "float16")
    assert "bfloat16" in (unknown.value.hint or "")


def test_the_setting_and_the_environment_reach_both_models(monkeypatch):
    from vocmine.services.analysis import build_analyzer
    from vocmine.services.encoding import encoder_for

    monkeypatch.setattr(runtime, "_cuda_available", lambda: False)
    settings = Settings(encoder_precision="float32", encoder_backend="torch")
    assert encoder_for(settings).precision == "float32"
    assert build_analyzer(settings, cache=False).sentiment.precision == "float32"  # type: ignore[attr-defined]
    monkeypatch.setenv("VOCMINE_ENCODER_PRECISION", "bfloat16")
    assert Settings().encoder_precision == "bfloat16"
    assert Encoder().precision == "bfloat16" and SentimentModel().precision == "bfloat16"


def test_bfloat16_gives_float32s_vectors_and_sentiment():
    float32 = Encoder(backend="torch", precision="float32")
    bfloat16 = Encoder(backend="torch", precision="bfloat16")
    exact, fast = float32.encode(TEXTS), bfloat16.encode(TEXTS)
    assert fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (exact * fast).sum(axis=1).min() >= 0.9999
    assert bfloat16.version == float32.version == encoder_version(DEFAULT_MODEL)  # one cache, one version

    exact_model = SentimentModel(backend="torch", precision="float32")
    fast_model = SentimentModel(backend="torch", precision="bfloat16")
    _, exact_labels = exact_model.analyse(TEXTS)
    fast_vectors, fast_labels = fast_model.analyse(TEXTS)
    assert np.allclose(fast_vectors, fast, atol=1e-6)  # the shared pass gives the Encoder's vectors
    assert [p.label for p in fast_labels] == [p.label for p in exact_labels]
    scores = np.array([[p.score for p in fast_labels], [p.score for p in exact_labels]])
    assert np.abs(scores[0] - scores[1]).max() < 0.05
    assert fast_model.version == exact_model.version + "-bf16"  # predictions can move: recorded

"""The ONNX Runtime encoder backend: the same vectors and sentiment as torch, from a graph exported
once into a local cache folder."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis import runtime
from vocmine.analysis.encoder import DEFAULT_MODEL, Encoder, encoder_version, model_location
from vocmine.analysis.runtime import onnx_backend_installed, resolve_backend, resolve_device
from vocmine.errors import ConfigError
from vocmine.settings import Settings

needs_onnx = pytest.mark.skipif(
    not onnx_backend_installed(), reason="the onnx encoder backend needs onnxruntime and onnx (the analysis extra)"
)

# Short and long, padded against each other in one batch, cut at 256 tokens, odd characters and spaces.
TEXTS = [
    "My refund never arrived.",
    "thanks",
    "x",
    "  Spaces around this one.  ",
    "The engineer was brilliant, fixed the router in ten minutes and explained everything!",
    "Worst airline ever: lost my bag, cancelled my flight, and the hotline hung up on me twice.",
    "Ünïcödé, emoji 😀 and a URL https://example.com/a?b=1 with #hashtags @handles",
    "I have been a customer for twelve years and this is the first time I am thinking of leaving. " * 12,
    "Where is my parcel? Order 55123, placed Monday.",
    "Cancel my contract please.",
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    """Exports go to a folder of the test's own, not the user's cache."""
    folder = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder / "vocmine" / "onnx"


@needs_onnx
def test_onnx_vectors_equal_the_torch_vectors(onnx_cache):
    torch_vectors = Encoder(batch_size=4, backend="torch", precision="float32").encode(TEXTS)
    onnx_vectors = Encoder(batch_size=4, backend="onnx").encode(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape and onnx_vectors.dtype == np.float32
    assert float(np.abs(onnx_vectors - torch_vectors).max()) < 1e-5
    assert float((onnx_vectors * torch_vectors).sum(axis=1).min()) >= 0.9999
    assert Encoder(backend="onnx").encode([]).shape == (0, 384)


@needs_onnx
def test_the_graph_is_exported_once_and_reused(onnx_cache):
    from vocmine.analysis.onnx_trunk import OnnxTrunk

    trunk = OnnxTrunk(model_location(DEFAULT_MODEL), encoder_version(DEFAULT_MODEL))
    folder = trunk.ensure_exported()
    assert folder.parent == onnx_cache and (folder / "trunk.onnx").exists()
    written = (folder / "trunk.onnx").stat().st_mtime_ns
    again = OnnxTrunk(model_location(DEFAULT_MODEL), encoder_version(DEFAULT_MODEL))
    assert again.ensure_exported() == folder and (folder / "trunk.onnx").stat().st_mtime_ns == written
    assert [p.name for p in onnx_cache.iterdir()] == [folder.name]  # no staging folder left behind
    assert OnnxTrunk(model_location(DEFAULT_MODEL), "another version").folder != folder


@needs_onnx
def test_sentiment_on_the_onnx_trunk_matches_torch(onnx_cache):
    from vocmine.analysis.sentiment.model import SentimentModel

    torch_vectors, torch_predictions = SentimentModel(
        int8=False, batch_size=4, backend="torch", precision="float32"
    ).analyse(TEXTS)
    onnx_vectors, onnx_predictions = SentimentModel(int8=False, batch_size=4, backend="onnx").analyse(TEXTS)
    assert float(np.abs(onnx_vectors - torch_vectors).max()) < 1e-5
    assert [p.label for p in onnx_predictions] == [p.label for p in torch_predictions]
    for ours, theirs in zip(onnx_predictions, torch_predictions, strict=True):
        assert abs(ours.score - theirs.score) <= 1e-3


@needs_onnx
def test_the_setting_reaches_the_shared_pass(monkeypatch):
    from vocmine.services.analysis import build_analyzer
    from vocmine.services.encoding import encoder_for

    monkeypatch.setattr(runtime, "_cuda_available", lambda: False)
    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: False)  # else auto means torch in bfloat16
    assert Settings().encoder_backend == "auto" and Settings().device == "auto"
    assert build_analyzer(Settings(), cache=False).sentiment.backend == "onnx"  # type: ignore[attr-defined]
    torch_settings = Settings(encoder_backend="torch")
    assert build_analyzer(torch_settings, cache=False).sentiment.backend == "torch"  # type: ignore[attr-defined]
    assert encoder_for(torch_settings).backend == "torch"
    assert encoder_for(Settings(encoder_backend="onnx", device="cpu")).backend == "onnx"


def test_auto_picks_onnx_on_a_float32_cpu_and_torch_on_a_gpu(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: False)
    monkeypatch.setattr(runtime, "_cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device(" CPU ") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"
    monkeypatch.setattr(runtime, "_cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(runtime, "onnx_backend_installed", lambda: True)
    assert resolve_backend("auto", "cpu") == "onnx"
    assert resolve_backend("auto", "cuda") == "torch"
    assert resolve_backend("torch", "cpu") == "torch"
    monkeypatch.setattr(runtime, "onnx_backend_installed", lambda: False)
    assert resolve_backend("auto", "cpu") == "torch"  # without ONNX Runtime, torch


def test_a_backend_that_cannot_run_says_what_to_change():
    with pytest.raises(ConfigError, match="runs on the CPU") as refused:
        resolve_backend("onnx", "cuda")
    assert "VOCMINE_DEVICE=cpu" in (refused.value.hint or "")
    with pytest.raises(ConfigError, match="unknown encoder backend"):
        resolve_backend("tensorrt", "cpu")


def test_constructing_an_encoder_loads_nothing(monkeypatch):
    """The version is read without torch: commands that only need it must not pay for a model."""
    monkeypatch.setattr(runtime, "_cuda_available", lambda: pytest.fail("looked for a GPU"))
    encoder = Encoder()
    assert encoder.version == encoder_version(DEFAULT_MODEL)


def test_models_built_without_settings_follow_the_environment(monkeypatch):
    """Training commands and benches build encoders without Settings: the same variables apply."""
    from vocmine.analysis.sentiment.model import SentimentModel

    monkeypatch.setenv("VOCMINE_ENCODER_BACKEND", "torch")
    monkeypatch.setenv("VOCMINE_DEVICE", "cpu")
    assert Encoder().backend == "torch" and SentimentModel().backend == "torch"
    assert Encoder(backend="onnx").backend_setting == "onnx"  # what the code says wins
    monkeypatch.delenv("VOCMINE_ENCODER_BACKEND")
    monkeypatch.delenv("VOCMINE_DEVICE")
    assert Encoder().backend_setting == "auto" and Encoder().device_setting == "auto"

"""The sentence encoder: order kept, unit vectors, cache hits instead of re-encoding."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis.encoder import EmbeddingCache, Encoder
from vocmine.errors import ConfigError


@pytest.fixture(scope="module")
def shared_encoder():
    return Encoder()


def test_vectors_are_unit_length_in_input_order(shared_encoder):
    texts = ["My refund never arrived.", "The engineer was brilliant!", "My refund never arrived."]
    vectors = shared_encoder.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    refund, praise = vectors[0], vectors[1]
    related = shared_encoder.encode(["I am still waiting for my money back."])[0]
    assert float(related @ refund) > float(related @ praise)


def test_cache_serves_repeated_texts_across_encoders(tmp_path, shared_encoder):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = Encoder(cache=cache)
    first._model = shared_encoder._load()  # share the loaded weights; the cache is what is tested
    texts = ["Where is my parcel?", "Cancel my contract please."]
    vectors = first.encode(texts)
    assert first.encoded == 2 and len(cache) == 2
    again = first.encode([texts[1], texts[0], "A new text."])
    assert first.encoded == 3
    assert np.allclose(again[0], vectors[1]) and np.allclose(again[1], vectors[0])
    reopened = Encoder(cache=EmbeddingCache(tmp_path / "cache.sqlite"))
    assert np.allclose(reopened.encode(texts), vectors)
    assert reopened.encoded == 0 and reopened._model is None  # nothing had to be loaded


def test_empty_input_and_bad_model(shared_encoder):
    assert shared_encoder.encode([]).shape == (0, 384)
    with pytest.raises(ConfigError, match="cannot load"):
        Encoder("/nonexistent/model/folder").encode(["x"])

"""The exact neighbour graph the theme fit hands UMAP from 4,096 vectors on."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis.themes import discovery
from vocmine.analysis.themes.discovery import DiscoveryParams, bertopic_clusters, normalise
from vocmine.analysis.themes.neighbours import cosine_neighbours


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=(rows, 24)).astype(np.float32))


def test_neighbours_are_the_exact_nearest_by_cosine(monkeypatch):
    monkeypatch.setattr("vocmine.analysis.themes.neighbours.BLOCK", 7)  # several blocks, a short last one
    vectors = _unit(50)
    indices, distances = cosine_neighbours(vectors, 5)
    brute = 1.0 - vectors @ vectors.T
    expected = np.argsort(brute, axis=1, kind="stable")[:, :5]
    assert indices.dtype == np.int64 and distances.dtype == np.float32
    assert np.array_equal(indices, expected)
    assert np.allclose(distances, np.take_along_axis(brute, expected, axis=1), atol=1e-6)
    assert np.array_equal(indices[:, 0], np.arange(50)) and np.all(distances[:, 0] < 1e-6)  # itself first
    assert np.all(np.diff(distances, axis=1) >= 0)


def test_asking_for_more_neighbours_than_vectors_is_refused():
    with pytest.raises(ValueError, match="6 neighbours among 5"):
        cosine_neighbours(_unit(5), 6)


def test_the_fit_over_our_neighbours_clusters_as_over_umaps_own(monkeypatch):
    """Below 4,096 points UMAP computes exact neighbours itself: handing it ours instead must not
    change the clusters (and BERTopic's are held to UMAP's in test_bertopic_equivalence.py)."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(5, 64))
    rows = [
        centre + rng.normal(scale=0.4, size=(size, 64))
        for centre, size in zip(centres, [80, 60, 50, 40, 30], strict=True)
    ]
    vectors = normalise(np.vstack(rows).astype(np.float32))
    params = DiscoveryParams()
    _, umaps = bertopic_clusters(vectors, params, 12)
    monkeypatch.setattr(discovery, "EXACT_NEIGHBOURS_FROM", 0)
    _, ours = bertopic_clusters(vectors, params, 12)
    assert len(set(umaps.tolist()) - {-1}) >= 3
    assert np.array_equal(ours, umaps)

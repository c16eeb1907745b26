"""The exact nearest neighbours of every fitted vector, for UMAP's neighbour graph.

UMAP computes exact neighbours itself below 4,096 points and switches to pynndescent's approximate
search above. At our fit sizes (up to ``DiscoveryParams.sample_size``, 50,000) exact neighbours cost
less than that search in a fresh process: pynndescent is compiled by numba on first use (about half a
minute here) and, seeded for repeatable fits, runs on one core, while a blocked matrix product (BLAS,
every core) with ``torch.topk`` needs no compilation: 50,000 × 384 in about 13 s here
(bench/topics.py times the whole fit). They are also the true neighbours rather than an approximation.
"""

from __future__ import annotations

import numpy as np

# Rows of the similarity matrix computed at once: 1,024 × 50,000 float32 is 200 MB.
BLOCK = 1024


def cosine_neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For unit-length ``vectors``: the indices (int64) and cosine distances (float32) of each one's
    ``k`` nearest, nearest first, itself among them (at distance 0), as UMAP's ``precomputed_knn``
    takes them."""
    import torch

    if not 0 < k <= len(vectors):
        raise ValueError(f"cannot find {k} neighbours among {len(vectors)} vectors")
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    indices = np.empty((len(data), k), dtype=np.int64)
    distances = np.empty((len(data), k), dtype=np.float32)
    for start in range(0, len(data), BLOCK):
        # numpy's BLAS for the product (faster than torch's here), torch for the partial sort
        similarities, nearest = torch.topk(torch.from_numpy(data[start : start + BLOCK] @ data.T), k, dim=1)
        indices[start : start + BLOCK] = nearest.numpy()
        distances[start : start + BLOCK] = np.maximum(0.0, 1.0 - similarities.numpy())
    return indices, distances

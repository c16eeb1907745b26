"""Vector helpers shared by the heads that read a whole conversation."""

from __future__ import annotations

import numpy as np


def conversation_vector(segment_vectors: np.ndarray) -> np.ndarray:
    """A conversation's customer side as one vector: the unit-length mean of its segments' vectors
    (segment vectors are unit length, so this is their mean direction)."""
    mean = np.asarray(segment_vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean

"""The theme fit runs BERTopic's clustering without the BERTopic object (discovery.bertopic_clusters): held here to
give BERTopic's own topics, numbered as BERTopic numbers them, for the settings vocmine passes it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from vocmine.analysis.themes.discovery import DiscoveryParams, bertopic_clusters, normalise

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bertopic") is None, reason="BERTopic is the reference (dev extra)"
)


def _corpus(seed: int) -> tuple[list[str], np.ndarray]:
    """Blobs of unequal sizes on the unit sphere, with scattered points between them (HDBSCAN noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(7, 384))
    sizes = [90, 70, 70, 45, 30, 30, 20]  # ties, so the numbering of equal sizes is checked too
    rows = [centre + rng.normal(scale=0.35, size=(size, 384)) for centre, size in zip(centres, sizes, strict=True)]
    rows.append(rng.normal(size=(40, 384)))
    vectors = normalise(np.concatenate(rows).astype(np.float32))
    order = rng.permutation(len(vectors))
    texts = [f"text number {i} about subject {i % 11}" for i in range(len(vectors))]
    return [texts[i] for i in order], vectors[order]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_fit_clusters_as_bertopic_does(seed):
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    texts, vectors = _corpus(seed)
    params = DiscoveryParams()
    size = 15
    _, ours = bertopic_clusters(vectors, params, size)
    reference = BERTopic(
        umap_model=UMAP(
            n_neighbors=params.n_neighbors,
            n_components=params.n_components,
            min_dist=0.0,
            metric="cosine",
            init=params.umap_init,
            random_state=params.random_state,
        ),
        hdbscan_model=HDBSCAN(min_cluster_size=size, metric="euclidean", cluster_selection_method="eom"),
        calculate_probabilities=False,
    )
    theirs = np.asarray(reference.fit_transform(texts, vectors)[0])
    assert len(set(theirs.tolist()) - {-1}) >= 3  # a clustering worth comparing
    assert ours.tolist() == theirs.tolist()

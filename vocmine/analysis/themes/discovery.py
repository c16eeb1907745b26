"""Themes: BERTopic discovery over stored segment embeddings, served by nearest centroid.

Fitting (``discover``) runs BERTopic's pipeline on the segments' existing vectors (never
re-embedding them): UMAP to 5 dimensions, HDBSCAN, and c-TF-IDF keywords (``labels.py``). It calls
UMAP and HDBSCAN itself, with the settings a ``BERTopic`` object would pass them, and numbers the
clusters by size as BERTopic numbers its topics, so the clusters and their order are BERTopic's
(on fits of 4,096 segments and more, over exact neighbours and, above 10,000, fewer layout epochs:
``_reduce``).
What it does without: importing ``bertopic`` (torch, sentence-transformers and plotly: about 10 s
and 450 MB on our 2 cores, in a fit that needs none of them) and BERTopic's own c-TF-IDF and
representative documents, which it computed only for ``labels.py`` to replace them. Serving
(``ThemeModel.assign``) never runs UMAP or HDBSCAN again – their first call in a process costs a
minute of numba compilation – but compares a segment's vector with each theme's centroid in the
original embedding space.

Choices, measured on banking77 and the demo corpus (``bench/quality.py``; figures and sensitivity
in ``docs/themes.md`` and the README):

* ``min_cluster_size`` scales with the corpus: 0.3% of the fitted segments, at least 10. A fixed
  size gives hundreds of micro-themes on large corpora (BERTopic's default 10 gives 300 on
  banking77's 10,003 queries) and none on small ones.
* UMAP starts from PCA, not its spectral default: the spectral solver fails at random on corpora
  with many repeated segments and the fallback made fits differ from run to run.
* The noise pass: HDBSCAN again over the first pass's noise with a third of the size, so a theme too
  small corpus-wide – typically one that has only just appeared – gets a theme of its own.
* What is still noise is given the theme whose centroid in the UMAP space is nearest, unless its
  cosine similarity to that theme's centroid in the embedding space is below ``min_similarity`` –
  those stay unassigned (theme ``None``).
* Segments outside the fitting sample are assigned like new segments: the nearest centroid by
  cosine, again with ``min_similarity``.

Stable ids, curation and seeding are in ``themes/catalog.py``; this module knows clusters only.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vocmine.analysis.themes.labels import describe
from vocmine.analysis.themes.neighbours import cosine_neighbours
from vocmine.errors import ConfigError

UNASSIGNED = -1
# UMAP computes exact neighbours itself below this many points; from here on ``neighbours.py`` does.
EXACT_NEIGHBOURS_FROM = 4096
# Above this many points UMAP's default is 200 epochs (``DiscoveryParams.large_fit_epochs``).
LARGE_FIT = 10_000


@dataclass(frozen=True)
class DiscoveryParams:
    sample_size: int = 50_000  # fit on at most this many segments; the rest are assigned
    min_cluster_share: float = 0.003
    min_cluster_floor: int = 5
    min_cluster_size: int | None = None  # overrides the share rule
    n_neighbors: int = 15
    n_components: int = 5
    min_similarity: float = 0.3
    keywords: int = 8
    random_state: int = 42
    noise_pass: bool = True  # cluster HDBSCAN's noise again with a third of the minimum size
    umap_init: str = "pca"  # deterministic; spectral init fails at random on corpora with many repeats
    # Layout epochs over 10,000 points, where UMAP's default is 200 (below, it is 500 and kept: small
    # fits are cheap). Seeded, the layout runs on one core and its epochs were most of a 50k fit; on
    # banking77, 100 scored no worse than 200 (bench/results/themes-epochs.json).
    large_fit_epochs: int | None = 100

    def cluster_size_for(self, n: int) -> int:
        if self.min_cluster_size is not None:
            return self.min_cluster_size
        # Below 50 segments the floor gives way (a fifth of them, at least 3), so a small export still
        # gets themes instead of an error.
        floor = min(self.min_cluster_floor, max(3, n // 5))
        return max(floor, round(self.min_cluster_share * n))


@dataclass
class Cluster:
    keywords: list[str]
    phrase: str
    centroid: np.ndarray  # unit vector in the embedding space
    size: int
    label: str = ""  # a short key phrase of its segments ("eSIM activation"); ``labels.describe``


@dataclass
class Discovery:
    """``labels[i]`` is the index into ``clusters`` of segment i, or UNASSIGNED."""

    labels: np.ndarray
    similarities: np.ndarray
    clusters: list[Cluster]
    fitted_on: int
    min_cluster_size: int
    noise_share_before_reassignment: float
    stats: dict[str, float] = field(default_factory=dict)


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def nearest_centroid(
    vectors: np.ndarray, centroids: np.ndarray, min_similarity: float
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the most similar centroid or UNASSIGNED, that cosine similarity) per vector."""
    if len(centroids) == 0 or len(vectors) == 0:
        return np.full(len(vectors), UNASSIGNED), np.zeros(len(vectors), dtype=np.float32)
    similarity = normalise(vectors) @ centroids.T
    best = similarity.argmax(axis=1)
    best_similarity = similarity[np.arange(len(best)), best]
    labels = np.where(best_similarity >= min_similarity, best, UNASSIGNED)
    return labels, best_similarity.astype(np.float32)


def discover(texts: Sequence[str], vectors: np.ndarray, params: DiscoveryParams | None = None) -> Discovery:
    params = params or DiscoveryParams()
    vectors = normalise(vectors)
    n = len(texts)
    if n != len(vectors):
        raise ValueError(f"{n} texts but {len(vectors)} vectors")
    rng = np.random.default_rng(params.random_state)
    fit_index = np.sort(rng.choice(n, params.sample_size, replace=False)) if n > params.sample_size else np.arange(n)
    size = params.cluster_size_for(len(fit_index))
    if len(fit_index) < 2 * size:
        raise ConfigError(
            f"{len(fit_index)} segments are too few to find themes of at least {size} segments",
            hint="analyse more conversations first, or lower the minimum theme size (--min-size)",
        )
    fit_texts = [texts[i] for i in fit_index]
    fit_vectors = vectors[fit_index]
    reduced, topics = bertopic_clusters(fit_vectors, params, size)
    noise_share = float((topics == -1).mean())
    if params.noise_pass:
        topics = _cluster_noise(topics, reduced, max(params.min_cluster_floor, size // 3))
    topics = _reassign_noise(topics, reduced, fit_vectors, params.min_similarity)
    if (topics >= 0).sum() == 0:
        raise ConfigError("no theme was found in these segments", hint="lower the minimum theme size (--min-size)")
    # Labels and keywords are computed after the noise went to its themes, so they describe what is
    # served (key phrases by c-TF-IDF: ``labels.py``).
    topic_ids = sorted(int(t) for t in set(topics.tolist()) if t >= 0)
    member_rows = [np.flatnonzero(topics == topic) for topic in topic_ids]
    words = describe([[fit_texts[i] for i in members] for members in member_rows], keywords=params.keywords)
    clusters: list[Cluster] = []
    index_of: dict[int, int] = {}
    for topic, members, described in zip(topic_ids, member_rows, words, strict=True):
        centroid = normalise(fit_vectors[members].mean(axis=0, keepdims=True))[0]
        index_of[topic] = len(clusters)
        clusters.append(
            Cluster(
                keywords=described.keywords,
                phrase=_phrase([fit_texts[i] for i in members], fit_vectors[members], centroid),
                centroid=centroid,
                size=0,
                label=described.label,
            )
        )
    centroids = np.stack([c.centroid for c in clusters])
    labels, similarities = nearest_centroid(vectors, centroids, params.min_similarity)
    # Fitted segments keep the theme the clustering gave them; the others take the nearest centroid.
    fitted = np.array([index_of[int(t)] if t >= 0 else UNASSIGNED for t in topics])
    labels[fit_index] = fitted
    similarities[fit_index] = np.where(
        fitted >= 0, (fit_vectors * centroids[np.maximum(fitted, 0)]).sum(axis=1), similarities[fit_index]
    )
    for i, cluster in enumerate(clusters):
        cluster.size = int((labels == i).sum())
    return Discovery(
        labels=labels,
        similarities=similarities,
        clusters=clusters,
        fitted_on=len(fit_index),
        min_cluster_size=size,
        noise_share_before_reassignment=noise_share,
        stats={"unassigned_share": float((labels == UNASSIGNED).mean())},
    )


def bertopic_clusters(
    vectors: np.ndarray, params: DiscoveryParams, min_cluster_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """BERTopic's clustering step: (the vectors reduced by UMAP, each one's cluster numbered by size or
    -1 for noise), what ``BERTopic(umap_model=…, hdbscan_model=…).fit_transform`` gives for these
    settings (tests/unit/analysis/test_bertopic_equivalence.py holds it to that) below 4,096 vectors;
    on larger fits the neighbours are exact and the epochs fewer (``_reduce``)."""
    reduced = _reduce(params, vectors)
    return reduced, _by_size(_hdbscan(min_cluster_size).fit(reduced).labels_)


def _reduce(params: DiscoveryParams, vectors: np.ndarray) -> np.ndarray:
    """The vectors in UMAP's ``n_components`` dimensions, as BERTopic reduces them, but for two things
    on larger fits: from 4,096 vectors on, over exact neighbours (``neighbours.py``) where UMAP would
    search approximately, and over 10,000, ``large_fit_epochs`` layout epochs."""
    from umap import UMAP

    n_neighbors = min(params.n_neighbors, len(vectors) - 1)  # UMAP needs fewer neighbours than points
    precomputed = cosine_neighbours(vectors, n_neighbors) if len(vectors) >= EXACT_NEIGHBOURS_FROM else None
    reducer = UMAP(
        n_neighbors=n_neighbors,
        n_components=params.n_components,
        min_dist=0.0,
        metric="cosine",
        init=params.umap_init,
        random_state=params.random_state,
        n_epochs=params.large_fit_epochs if len(vectors) > LARGE_FIT else None,
        precomputed_knn=precomputed or (None, None, None),
    )
    with warnings.catch_warnings():
        # Without pynndescent's index UMAP cannot ``transform`` new data; serving never asks it to.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        return np.nan_to_num(reducer.fit_transform(vectors))


def _hdbscan(min_cluster_size: int) -> Any:
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=min_cluster_size, metric="euclidean", cluster_selection_method="eom")


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Clusters numbered by size, largest first, exactly as BERTopic numbers its topics (pandas'
    descending sort of the sizes in the order the clusters – noise too – first occur, which is not
    stable among equal sizes); noise stays -1."""
    labels = np.asarray(labels)
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    occurring = np.argsort(first)
    ids, counts = ids[occurring], counts[occurring]
    descending = np.arange(len(ids))[::-1][counts[::-1].argsort(kind="quicksort")][::-1]
    ranked = ids[descending]
    ranked = ranked[ranked >= 0]
    if not len(ranked):
        return labels.copy()
    number = np.full(int(ranked.max()) + 1, UNASSIGNED)
    number[ranked] = np.arange(len(ranked))
    return np.where(labels >= 0, number[np.maximum(labels, 0)], UNASSIGNED)


def _cluster_noise(topics: np.ndarray, reduced: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """Themes too small for the corpus-wide minimum – typically a theme that only just appeared, the
    very thing emerging-theme detection is for – end up as HDBSCAN noise. A second HDBSCAN over the
    noise alone, with a third of the minimum size, gives them their own themes."""
    noise = np.flatnonzero(topics == -1)
    if len(noise) < 2 * min_cluster_size:
        return topics
    labels = _hdbscan(min_cluster_size).fit(reduced[noise]).labels_
    topics = topics.copy()
    offset = int(topics.max()) + 1
    topics[noise] = np.where(labels >= 0, labels + offset, -1)
    return topics


def _reassign_noise(topics: np.ndarray, reduced: np.ndarray, vectors: np.ndarray, min_similarity: float) -> np.ndarray:
    topics = topics.copy()
    noise = np.flatnonzero(topics == -1)
    ids = sorted(int(t) for t in set(topics.tolist()) if t >= 0)
    if len(noise) == 0 or not ids:
        return topics
    reduced_centroids = np.stack([reduced[topics == t].mean(axis=0) for t in ids])
    centroids = normalise(np.stack([vectors[topics == t].mean(axis=0) for t in ids]))
    for start in range(0, len(noise), 4096):
        chunk = noise[start : start + 4096]
        distances = ((reduced[chunk][:, None, :] - reduced_centroids[None, :, :]) ** 2).sum(axis=2)
        nearest = distances.argmin(axis=1)
        similarity = (vectors[chunk] * centroids[nearest]).sum(axis=1)
        topics[chunk] = np.where(similarity >= min_similarity, np.asarray(ids)[nearest], -1)
    return topics


def _phrase(texts: list[str], vectors: np.ndarray, centroid: np.ndarray, limit: int = 70) -> str:
    """The most central of the theme's short segments, as a readable example of what it is about."""
    order = np.argsort(-(vectors @ centroid))
    central = [texts[i] for i in order[:10]]
    short = [t for t in central if 3 <= len(t.split()) <= 14] or central
    phrase = re.sub(r"\s+", " ", short[0]).strip()
    return phrase if len(phrase) <= limit else phrase[: limit - 1].rsplit(" ", 1)[0] + "…"


def hierarchy(centroids: np.ndarray, ids: Sequence[str]) -> list[dict[str, object]]:
    """Average-linkage tree over theme centroids (cosine), as merge steps a UI can draw: each node
    ``h<n>`` joins two children (theme ids or earlier nodes) at a distance."""
    if len(ids) < 2:
        return []
    from scipy.cluster.hierarchy import linkage

    steps = linkage(centroids, method="average", metric="cosine")
    names = list(ids)
    nodes = []
    for n, (a, b, distance, _count) in enumerate(steps):
        node = f"h{n + 1}"
        nodes.append({"id": node, "children": [names[int(a)], names[int(b)]], "distance": round(float(distance), 4)})
        names.append(node)
    return nodes

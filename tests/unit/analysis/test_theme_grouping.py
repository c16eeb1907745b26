"""Grouping sub-themes into top-level themes: by what they say and by the conversations they share."""

from __future__ import annotations

import numpy as np

from vocmine.analysis.themes.catalog import cluster_mentions
from vocmine.analysis.themes.discovery import normalise
from vocmine.analysis.themes.levels import build_top_level, cooccurrence_profile, group_subthemes
from vocmine.schema import Theme, conversation_of_segment, segment_id


def _spread(n: int, dimensions: int = 64, seed: int = 0) -> np.ndarray:
    """n sub-theme centroids, each about as far from every other (nearly orthogonal)."""
    return normalise(np.random.default_rng(seed).normal(size=(n, dimensions)))


def _together(groups: list[list[int]], n: int, conversations: int = 20) -> np.ndarray:
    """Co-occurrence counts where each group's sub-themes are mentioned together in ``conversations``
    conversations, and sub-themes of different groups never share one."""
    together = np.zeros((n, n))
    for members in groups:
        for a in members:
            for b in members:
                together[a, b] += conversations
    return together


def test_sub_themes_that_share_conversations_are_grouped_though_their_sentences_differ() -> None:
    centroids = _spread(12)
    subjects = [[0, 5, 9], [1, 6, 10], [2, 7, 11], [3, 8], [4]]
    groups = group_subthemes(centroids, bounds=(5, 5), together=_together(subjects, 12))
    for members in subjects:
        assert len({groups[m] for m in members}) == 1, (members, groups)
    assert len(set(groups.tolist())) == 5


def test_without_shared_conversations_only_the_centroids_count() -> None:
    # Two tight families of centroids; co-occurrence that is only the diagonal (one content segment
    # per conversation) must change nothing.
    rng = np.random.default_rng(1)
    base = _spread(2, seed=2)
    centroids = normalise(
        np.vstack([base[0] + 0.05 * rng.normal(size=(6, 64)), base[1] + 0.05 * rng.normal(size=(6, 64))])
    )
    alone = np.diag(np.full(12, 30.0))
    plain = group_subthemes(centroids, bounds=(2, 2))
    with_diagonal = group_subthemes(centroids, bounds=(2, 2), together=alone)
    assert plain.tolist() == with_diagonal.tolist()
    assert len({int(g) for g in plain[:6]}) == 1 and len({int(g) for g in plain[6:]}) == 1
    assert plain[0] != plain[6]
    assert np.allclose(cooccurrence_profile(alone), np.eye(12))


def test_no_group_swallows_the_corpus() -> None:
    # A chain of sub-themes, each a little closer to the next than to anything else: average linkage
    # joins such chains into one group; the grouping must keep groups of comparable size.
    steps = normalise(np.cumsum(np.random.default_rng(3).normal(size=(60, 16)), axis=0))
    groups = group_subthemes(steps, bounds=(10, 10))
    sizes = np.bincount(groups)
    assert len(sizes) == 10
    assert sizes.max() <= 20, sizes


def test_fewer_sub_themes_than_the_minimum_keep_a_group_each() -> None:
    assert group_subthemes(_spread(4), bounds=(10, 40)).tolist() == [0, 1, 2, 3]


def test_cluster_mentions_counts_each_conversation_once_per_cluster() -> None:
    batches = [
        (["a", "a", "b"], np.array([0, 0, 2])),
        (["b", "c", "a"], np.array([2, -1, 1])),  # -1: a segment without a cluster (filler, unassigned)
    ]
    mentions = cluster_mentions(iter(batches), clusters=3)
    dense = np.asarray(mentions.todense())
    assert dense.shape == (3, 3)
    assert dense.tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_a_segment_id_names_its_conversation_even_when_that_id_has_colons() -> None:
    assert conversation_of_segment(segment_id("zendesk:ticket:42", 3, 17)) == "zendesk:ticket:42"


def test_a_top_level_theme_keeps_its_id_while_it_keeps_most_of_its_sub_themes() -> None:
    # The sub-themes of each group moved (a re-fit on more conversations), so the groups' centroids
    # are no longer alike; the groups still hold the same sub-themes, so they keep their ids and names.
    first = _spread(12, seed=4)
    moved = normalise(first + 0.9 * _spread(12, seed=5))
    assert float(first[0] @ moved[0]) < 0.8
    ids = [f"t{n}" for n in range(12)]
    subjects = [[0, 5, 9], [1, 6, 10], [2, 7, 11], [3, 8], [4]]
    previous_parents = {ids[m]: f"g{g + 1}" for g, members in enumerate(subjects) for m in members}
    known = {f"g{g + 1}": Theme(id=f"g{g + 1}", label="old", level="theme") for g in range(5)}
    known["g2"] = known["g2"].model_copy(update={"name": "Refund delays"})
    subthemes = {i: Theme(id=i, label=i, size=10) for i in ids}
    groups = build_top_level(
        subthemes,
        {i: moved[n] for n, i in enumerate(ids)},
        {},
        known=known,
        previous_groups={g: np.zeros(64, dtype=np.float32) for g in known},  # far from everything
        previous_parents=previous_parents,
        resolve=lambda theme_id: theme_id,
        version="v2",
        bounds=(5, 5),
        together=lambda chosen: _together(subjects, len(chosen)),  # chosen: ids, in order
    )
    assert {t.id for t in groups} == set(known)
    assert {subthemes[ids[m]].parent for m in subjects[1]} == {"g2"}
    assert next(t for t in groups if t.id == "g2").name == "Refund delays"


def test_a_refit_keeps_the_grouping_and_places_new_sub_themes_beside_it():
    base = _spread(3, seed=6)
    rng = np.random.default_rng(7)
    # Three families; t0–t5 were grouped by the previous fit (g1: t0 t1, g2: t2 t3, g3: t4 t5).
    near = [base[f] + 0.1 * rng.normal(size=64) for f in (0, 0, 1, 1, 2, 2)]
    newcomer = base[1] + 0.1 * rng.normal(size=64)  # t6: a new sub-theme of the second family
    stranger = _spread(1, seed=8)[0]  # t7: like nothing before
    centroids = normalise(np.vstack([*near, newcomer, stranger]))
    ids = [f"t{n}" for n in range(8)]
    previous_parents = {"t0": "g1", "t1": "g1", "t2": "g2", "t3": "g2", "t4": "g3", "t5": "g3"}

    def fit(regroup: bool) -> dict[str, str | None]:
        subthemes = {i: Theme(id=i, label=i, size=10) for i in ids}
        build_top_level(
            subthemes,
            {i: centroids[n] for n, i in enumerate(ids)},
            {},
            known={g: Theme(id=g, label=g, level="theme") for g in ("g1", "g2", "g3")},
            previous_groups={},
            previous_parents=previous_parents,
            resolve=lambda theme_id: theme_id,
            version="v2",
            bounds=(2, 10),
            regroup=regroup,
        )
        return {i: t.parent for i, t in subthemes.items()}

    kept = fit(regroup=False)
    assert {i: kept[i] for i in previous_parents} == previous_parents
    assert kept["t6"] == "g2"
    assert kept["t7"] not in ("g1", "g2", "g3")  # a new top-level theme of its own
    afresh = fit(regroup=True)
    assert afresh["t6"] == afresh["t2"]  # the same families, found again from scratch

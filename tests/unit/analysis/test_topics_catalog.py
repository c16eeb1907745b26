"""Stable theme ids, curation and seeding, on hand-made clusters (no BERTopic run: that is in
tests/integration/test_themes.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocmine.analysis.themes.catalog import SeedTheme, ThemeModel, build_model, load_seeds
from vocmine.analysis.themes.discovery import UNASSIGNED, Cluster, Discovery, normalise
from vocmine.errors import ConfigError

DIM = 16


def _directions(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return normalise(rng.normal(size=(n, DIM)))


def _discovery(centres: np.ndarray, per: int = 20, noise: float = 0.05, seed: int = 1) -> tuple[Discovery, np.ndarray]:
    """``per`` vectors around each centre, labelled with their centre's index."""
    rng = np.random.default_rng(seed)
    vectors = normalise(np.repeat(centres, per, axis=0) + noise * rng.normal(size=(len(centres) * per, DIM)))
    labels = np.repeat(np.arange(len(centres)), per)
    clusters = [
        Cluster(
            keywords=[f"word{i}", "other"], phrase=f"phrase {i}", centroid=normalise(centres[i : i + 1])[0], size=per
        )
        for i in range(len(centres))
    ]
    similarity = (vectors * centres[labels]).sum(axis=1)
    return Discovery(labels, similarity, clusters, len(vectors), 10, 0.1), vectors


def test_refit_keeps_ids_of_themes_found_again_and_gives_new_ids_to_new_ones() -> None:
    centres = _directions(4)
    first, vectors = _discovery(centres[:3])
    model, assigned, _ = build_model(first, vectors, version="v1", encoder_version="enc", previous=None)
    assert sorted(model.active_ids) == ["t1", "t2", "t3"]
    by_centre = {i: assigned[i * 20] for i in range(3)}
    # The second fit finds clusters 2, 0 and a new one (3), in another order; cluster 1 is gone.
    second, vectors2 = _discovery(centres[[2, 0, 3]], seed=5)
    model2, assigned2, _ = build_model(second, vectors2, version="v2", encoder_version="enc", previous=model)
    assert assigned2[0] == by_centre[2] and assigned2[20] == by_centre[0]
    assert assigned2[40] == "t4"  # new id, never a reused one
    themes = {t.id: t for t in model2.themes}
    assert themes[by_centre[1]].status == "retired"
    history = model2.history[-1]
    assert history["new"] == ["t4"] and history["retired"] == [by_centre[1]]
    assert set(history["kept"]) == {by_centre[0], by_centre[2]}


def test_renames_and_merges_survive_a_refit() -> None:
    centres = _directions(3)
    first, vectors = _discovery(centres)
    model, assigned, _ = build_model(first, vectors, version="v1", encoder_version="enc", previous=None)
    a, b = assigned[0], assigned[20]
    curated = [t.model_copy() for t in model.themes]
    for theme in curated:
        if theme.id == a:
            theme.name = "Refund delays"
        if theme.id == b:
            theme.status, theme.merged_into = "merged", a
    second, vectors2 = _discovery(centres, seed=9)
    model2, assigned2, _ = build_model(
        second, vectors2, version="v2", encoder_version="enc", previous=model, curated=curated
    )
    themes = {t.id: t for t in model2.themes}
    assert themes[a].display_name == "Refund delays"
    assert assigned2[20] == a  # the merged theme's segments are served as the target
    assert themes[b].status == "merged"
    served, _ = model2.assign(vectors2[20:21], {b: a})
    assert served == [a]


def test_seeded_theme_is_found_by_name_and_takes_its_cluster() -> None:
    centres = _directions(3)
    discovery, vectors = _discovery(centres)
    seeds = [
        SeedTheme("seed-billing", "Billing", "charges", ("charged twice",)),
        SeedTheme("seed-nothing-near", "Nothing near", "", ("x",)),
    ]
    seed_vectors = np.stack([centres[1] + 0.01, -centres[0]])
    model, assigned, _ = build_model(
        discovery, vectors, version="v1", encoder_version="enc", previous=None, seeds=seeds, seed_vectors=seed_vectors
    )
    themes = {t.id: t for t in model.themes}
    assert assigned[20] == "seed-billing" and themes["seed-billing"].display_name == "Billing"
    assert themes["seed-billing"].seeded and themes["seed-billing"].size == 20
    assert themes["seed-nothing-near"].size == 0  # exists, by name, with nothing near it
    assert "seed-nothing-near" in model.active_ids


def test_unassigned_segments_stay_unassigned_and_are_counted() -> None:
    centres = _directions(2)
    discovery, vectors = _discovery(centres)
    discovery.labels[:5] = UNASSIGNED
    model, assigned, _ = build_model(discovery, vectors, version="v1", encoder_version="enc", previous=None)
    assert assigned[:5] == [None] * 5
    assert model.stats["unassigned_share"] == round(5 / 40, 4)


def test_model_round_trips_through_safetensors(tmp_path: Path) -> None:
    discovery, vectors = _discovery(_directions(3))
    model, _, _ = build_model(discovery, vectors, version="v1", encoder_version="enc", previous=None)
    model.save(tmp_path)
    loaded = ThemeModel.load(tmp_path)
    assert loaded is not None and loaded.version == "v1"
    assert loaded.active_ids == model.active_ids
    np.testing.assert_allclose(loaded.centroids, model.centroids)
    assert [t.id for t in loaded.themes] == [t.id for t in model.themes]
    assert loaded.assign(vectors[:3])[0] == model.assign(vectors[:3])[0]
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    assert ThemeModel.load(tmp_path / "nothing-here") is None


def test_a_theme_is_labelled_by_its_key_phrase_else_by_its_keywords() -> None:
    discovery, vectors = _discovery(_directions(2))
    discovery.clusters[0].label = "Refund delays"
    model, assigned, _ = build_model(discovery, vectors, version="v1", encoder_version="enc", previous=None)
    themes = {t.id: t for t in model.themes}
    assert themes[assigned[0]].label == "Refund delays"
    assert themes[assigned[20]].label == "word1, other"  # no phrase was found: never a sentence


def test_seed_file_errors_name_the_entry(tmp_path: Path) -> None:
    good = tmp_path / "seeds.toml"
    good.write_text('[[theme]]\nname = "Refund delays"\nexamples = ["where is my refund"]\n', encoding="utf-8")
    assert load_seeds(good)[0].id == "seed-refund-delays"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[theme]]\nname = "A"\nexample = ["typo in the key"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"#1 has unknown keys \['example'\]"):
        load_seeds(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text('[[theme]]\nname = "A"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="neither description nor examples"):
        load_seeds(empty)
    twice = tmp_path / "twice.toml"
    twice.write_text('[[theme]]\nname = "A"\nexamples=["x"]\n[[theme]]\nname = "a"\nexamples=["y"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="repeat"):
        load_seeds(twice)


def test_curation_survives_rename_merge_and_a_seeded_refit() -> None:
    """The analyst's sequence: rename a theme, merge two fragments of the same subject into it, then
    re-fit with a seed taxonomy. The curated theme stays active under its id and name, its fragments
    found again fold into it instead of coming back as new ids, and the merged ids stay merged."""
    centres = _directions(6, seed=3)
    # The eSIM subject is three close fragments (0, 1, 2); 3–5 are other subjects.
    fragments = normalise(centres[0] + 0.55 * _directions(3, seed=4))
    first_centres = np.vstack([fragments, centres[3:]])
    first, vectors = _discovery(first_centres)
    model, assigned, _ = build_model(first, vectors, version="v1", encoder_version="enc", previous=None)
    target, merged = assigned[0], [assigned[20], assigned[40]]
    curated = [t.model_copy() for t in model.themes]
    for theme in curated:
        if theme.id == target:
            theme.name = "eSIM activation failures"
        if theme.id in merged:
            theme.status, theme.merged_into = "merged", target
    # The re-fit finds the fragments again (not the target's own cluster), plus the other subjects
    # and a seeded one.
    seed = SeedTheme(id="seed-billing", name="Billing", description="bills", examples=("my bill",))
    second, vectors2 = _discovery(np.vstack([fragments[1:], centres[3:]]), seed=11)
    model2, assigned2, _ = build_model(
        second,
        vectors2,
        version="v2",
        encoder_version="enc",
        previous=model,
        curated=curated,
        seeds=[seed],
        seed_vectors=_directions(1, seed=99),
    )
    themes = {t.id: t for t in model2.themes}
    assert assigned2[0] == assigned2[20] == target  # both fragments are served as the curated theme
    assert themes[target].status == "active" and themes[target].display_name == "eSIM activation failures"
    assert all(themes[m].status == "merged" and themes[m].merged_into == target for m in merged)
    assert model2.history[-1]["retired"] == []
    assert not set(model2.history[-1]["new"]) & set(assigned2[:40])  # no fresh id for the fragments
    assert "seed-billing" in model2.active_ids


def test_a_curated_theme_without_segments_is_retired_but_keeps_its_name() -> None:
    centres = _directions(3, seed=5)
    first, vectors = _discovery(centres)
    model, assigned, _ = build_model(first, vectors, version="v1", encoder_version="enc", previous=None)
    gone = assigned[40]
    curated = [t.model_copy(update={"name": "Old subject"}) if t.id == gone else t for t in model.themes]
    second, vectors2 = _discovery(centres[:2], seed=6)
    model2, _, _ = build_model(second, vectors2, version="v2", encoder_version="enc", previous=model, curated=curated)
    theme = next(t for t in model2.themes if t.id == gone)
    assert theme.status == "retired" and theme.display_name == "Old subject"

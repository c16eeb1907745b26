"""A long-running process (an API worker) serves the store's current theme catalog: a merge or a
new fit made by another process is used for newly analysed segments without a restart."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vocmine.analysis.themes.catalog import build_model
from vocmine.analysis.themes.discovery import Cluster, Discovery, normalise
from vocmine.services.themes import LiveThemes
from vocmine.settings import Settings
from vocmine.store.sqlite.store import SQLiteStore


def _fit(store: SQLiteStore, directory: Path, centres: np.ndarray, version: str, previous=None):
    clusters = [Cluster([f"w{i}"], f"phrase {i}", c, 10) for i, c in enumerate(centres)]
    labels = np.arange(len(centres))
    discovery = Discovery(labels, np.ones(len(centres), np.float32), clusters, len(centres), 1, 0.0)
    model, _, _ = build_model(discovery, centres, version=version, encoder_version="enc", previous=previous)
    model.save(directory)
    store.replace_themes(model.themes, version)
    return model


def test_merges_and_refits_made_elsewhere_are_served_without_a_restart(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "store.sqlite"))
    settings = Settings(store=f"sqlite:///{tmp_path / 'store.sqlite'}", themes_dir=str(tmp_path / "themes"))
    centres = normalise(np.random.default_rng(0).normal(size=(3, 8)))
    live = LiveThemes(settings, store, is_filler=lambda texts, _: np.array([t == "thanks" for t in texts]))
    live.REFRESH_S = 0.0  # check the store on every call (the API checks at most once a second)
    assert live(["before any fit"], centres[:1]) == [None]
    first = _fit(store, tmp_path / "themes", centres[:2], "v1")
    a, b = first.active_ids
    assert live(["a", "b", "thanks"], centres[[0, 1, 1]]) == [a, b, None]  # filler gets no theme
    store.merge_themes([b], a, actor="analyst")  # e.g. through the API, in another worker
    assert live(["b"], centres[1:2]) == [a]
    second = _fit(store, tmp_path / "themes", centres, "v2", previous=first)
    new = [i for i in second.active_ids if i not in (a, b)]
    assert live(["c"], centres[2:3]) == new


def test_the_catalog_is_read_at_most_once_per_refresh_period(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "store.sqlite"))
    settings = Settings(store=f"sqlite:///{tmp_path / 'store.sqlite'}", themes_dir=str(tmp_path / "themes"))
    centres = normalise(np.random.default_rng(1).normal(size=(2, 8)))
    first = _fit(store, tmp_path / "themes", centres, "v1")
    live = LiveThemes(settings, store, is_filler=lambda texts, _: np.zeros(len(texts), dtype=bool))
    live.REFRESH_S = 3600.0
    a, b = first.active_ids
    assert live(["b"], centres[1:2]) == [b]
    store.merge_themes([b], a, actor="analyst")
    assert live(["b"], centres[1:2]) == [b]  # not yet: the period has not passed

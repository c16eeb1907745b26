"""Wires the theme model to a store and to files: ``vocmine themes fit|list|rename|merge|discover``.

``fit_store_themes`` reads every analysed segment's text and stored vector (nothing is re-embedded),
discovers themes (``analysis/themes/discovery.py``) over the *content* segments only, gives them stable
ids against the previous fit and the store's curation (``analysis/themes/catalog.py``), saves the
artifact in the themes folder and writes the catalog and every segment's theme to the store.

* Filler segments (thanks, greetings, acknowledgements, chasers: ``analysis/content``) get no theme,
  so they count in no theme's share or examples; they keep their sentiment and signals.
* Each distinct text is clustered once: a corpus where "Thanks!" is written 5,000 times must not look
  like it has a dense theme there, and templated corpora would otherwise be clustered by frequency.
* Every segment, fitted or not, is then served its theme by the same rule – nearest centroid – so
  identical texts always get the same theme, at fit time and when analysed later.

New segments analysed later are assigned by ``LiveThemes``, which follows the store's catalog: a
fit, rename or merge made by any process is used within ``LiveThemes.REFRESH_S`` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.content.filter import ContentFilter
from vocmine.analysis.content.rules import is_rule_filler
from vocmine.analysis.themes.catalog import (
    AssignmentWriter,
    ThemeModel,
    build_model,
    cluster_mentions,
    load_seeds,
    new_version,
)
from vocmine.analysis.themes.discovery import UNASSIGNED, Discovery, DiscoveryParams, discover, nearest_centroid
from vocmine.analysis.themes.levels import at_level
from vocmine.errors import ConfigError
from vocmine.schema import Theme, ThemeLevel, conversation_of_segment
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter

log = logging.getLogger(__name__)

FillerTest = Callable[[list[str], np.ndarray], np.ndarray]


def themes_dir(settings: Settings) -> Path:
    if settings.themes_dir:
        return Path(settings.themes_dir)
    return settings.beside_store("themes", "var/themes")


@dataclass
class FitReport:
    version: str
    segments: int
    fitted_on: int
    themes: int
    new: list[str]
    kept: dict[str, float]
    retired: list[str]
    seeded: list[str]
    unassigned_share: float
    filler_share: float  # segments left out of themes as filler
    distinct_texts: int  # distinct content texts the clustering saw (at most the sample size)
    noise_share_before_reassignment: float
    min_cluster_size: int
    seconds: float
    artifact: str
    stats: dict[str, object] = field(default_factory=dict)


def fit_store_themes(
    store: Store,
    settings: Settings,
    *,
    seeds_path: Path | None = None,
    min_cluster_size: int | None = None,
    filter: ConversationFilter | None = None,
    progress: Callable[[str], None] | None = None,
    regroup: bool = False,
) -> FitReport:
    """Two passes over the stored segments, so memory stays bounded by the sample whatever the
    store's size: the first draws a uniform sample (reservoir) of at most ``theme_sample`` segments
    and fits on it; the second assigns every segment in batches (the sample keeps its fitted theme,
    the others take the nearest centroid) and writes the assignments."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    is_filler = filler_test(settings)
    texts, vectors, total, filler = _reservoir(store, filter, settings.theme_sample, is_filler)
    if total == 0:
        raise ConfigError("the store holds no analysed segments", hint="run `vocmine analyze` first")
    if not texts:
        raise ConfigError("every analysed segment is filler (thanks, greetings…)", hint="analyse more conversations")
    say(f"clustering {len(texts):,} distinct content texts of {total:,} segments ({filler:,} filler left out)")
    params = DiscoveryParams(sample_size=len(texts), min_cluster_size=min_cluster_size)
    discovery = discover(texts, vectors, params)
    say("reading which conversations mention each cluster")
    mentions = _cluster_mentions(store, filter, discovery, params.min_similarity, is_filler)
    directory = themes_dir(settings)
    previous = ThemeModel.load(directory)
    encoder_version = _encoder_version(settings)
    if previous is not None and previous.encoder_version != encoder_version:
        raise ConfigError(
            f"the previous theme model was fitted on {previous.encoder_version} vectors, these are {encoder_version}",
            hint=f"move {directory} aside to start a new theme history, or analyse with the previous encoder",
        )
    seeds = load_seeds(seeds_path) if seeds_path else []
    seed_vectors = _embed_seeds(settings, seeds) if seeds else None
    version = new_version()
    model, assigned, similarity = build_model(
        discovery,
        vectors,
        version=version,
        encoder_version=encoder_version,
        previous=previous,
        curated=store.list_themes(),
        seeds=seeds,
        seed_vectors=seed_vectors,
        min_similarity=params.min_similarity,
        texts=texts,
        top_level_range=(settings.theme_top_min, settings.theme_top_max),
        mentions=mentions,
        regroup=regroup,
    )
    del texts, vectors, assigned, similarity, mentions
    say(f"assigning {total:,} segments")
    redirect = {t.id: t.merged_into for t in model.themes if t.merged_into}
    unassigned = 0
    served: Counter[str] = Counter()
    with AssignmentWriter(directory, version) as writer:
        for batch_ids, batch_texts, batch_vectors in store.iter_segment_texts(filter):
            nearest, nearest_similarity = model.assign(batch_vectors, redirect)
            left_out = is_filler(batch_texts, batch_vectors)
            rows = [
                (sid, None if skip else theme, float(sim))
                for sid, theme, sim, skip in zip(batch_ids, nearest, nearest_similarity, left_out, strict=True)
            ]
            writer.write(rows)
            store.assign_themes((sid, theme) for sid, theme, _ in rows)
            unassigned += sum(theme is None for _, theme, _ in rows)
            served.update(theme for _, theme, _ in rows if theme is not None)
    # A theme's size is its segments, not the distinct texts it was clustered from.
    for theme in model.themes:
        if theme.status == "active" and theme.level == "subtheme" and theme.parent:
            served[theme.parent] += served[theme.id]
    model.themes = [t.model_copy(update={"size": served[t.id]}) if t.status == "active" else t for t in model.themes]
    model.stats.update({"segments": total, "unassigned_share": round(unassigned / total, 4)})
    target = model.save(directory)  # last: CURRENT moves to the new model once every segment has its theme
    store.replace_themes(model.themes, version)
    latest = model.history[-1]
    return FitReport(
        version=version,
        segments=total,
        fitted_on=discovery.fitted_on,
        themes=len(set(model.active_ids)),
        new=list(latest["new"]),  # type: ignore[call-overload]
        kept=dict(latest["kept"]),  # type: ignore[call-overload]
        retired=list(latest["retired"]),  # type: ignore[call-overload]
        seeded=list(latest["seeded"]),  # type: ignore[call-overload]
        unassigned_share=round(unassigned / total, 4),
        filler_share=round(filler / total, 4),
        distinct_texts=discovery.fitted_on,
        noise_share_before_reassignment=discovery.noise_share_before_reassignment,
        min_cluster_size=discovery.min_cluster_size,
        seconds=round(time.perf_counter() - started, 1),
        artifact=str(target),
    )


def _reservoir(
    store: Store, filter: ConversationFilter | None, size: int, is_filler: FillerTest, seed: int = 42
) -> tuple[list[str], np.ndarray, int, int]:
    """A uniform sample of at most ``size`` distinct content texts (texts, vectors) in one pass, the
    number of segments read and how many of them were filler."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    rows: list[np.ndarray] = []
    seen_texts: set[str] = set()
    total = filler = distinct = 0
    for _, batch_texts, batch_vectors in store.iter_segment_texts(filter):
        left_out = is_filler(batch_texts, batch_vectors)
        total += len(batch_texts)
        filler += int(left_out.sum())
        for text, vector, skip in zip(batch_texts, batch_vectors, left_out, strict=True):
            if skip or text in seen_texts:
                continue
            seen_texts.add(text)
            if distinct < size:
                texts.append(text)
                rows.append(np.array(vector, dtype=np.float32))  # a copy: the batch can be freed
            else:
                slot = int(rng.integers(0, distinct + 1))
                if slot < size:
                    texts[slot], rows[slot] = text, np.array(vector, dtype=np.float32)
            distinct += 1
    matrix = np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
    return texts, matrix, total, filler


def _cluster_mentions(
    store: Store,
    filter: ConversationFilter | None,
    discovery: Discovery,
    min_similarity: float,
    is_filler: FillerTest,
) -> Any:
    """Which conversations mention which discovered clusters (each content segment by its nearest
    cluster), for grouping sub-themes into top-level themes by the conversations they share."""
    centroids = np.stack([c.centroid for c in discovery.clusters])

    def batches() -> Iterator[tuple[list[str], np.ndarray]]:
        for batch_ids, batch_texts, batch_vectors in store.iter_segment_texts(filter):
            nearest, _ = nearest_centroid(batch_vectors, centroids, min_similarity)
            nearest[is_filler(batch_texts, batch_vectors)] = UNASSIGNED
            yield [conversation_of_segment(s) for s in batch_ids], nearest

    return cluster_mentions(batches(), len(centroids))


def filler_test(settings: Settings) -> FillerTest:
    """Which segments are filler: the shipped content filter when its encoder made the vectors;
    with another encoder only the word rule (the head cannot read other vectors)."""
    head = ContentFilter.load()
    if head.encoder == _encoder_version(settings):
        return head.is_filler
    log.warning("the content filter was trained on %s vectors; only its word rule runs on these", head.encoder)
    return lambda texts, _vectors: np.array([is_rule_filler(t) for t in texts], dtype=bool)


class LiveThemes:
    """The theme head of a process that analyses while others curate (the API's workers, a long
    ``vocmine analyze``): it serves the store's current theme model with the store's current merges,
    checking the store at most every ``REFRESH_S`` seconds, so a fit, rename or merge made by any
    process is used within that time without a restart. Filler segments get no theme."""

    REFRESH_S = 1.0

    def __init__(self, settings: Settings, store: Store, is_filler: FillerTest | None = None) -> None:
        self.settings = settings
        self.store = store
        self.directory = themes_dir(settings)
        self._is_filler = is_filler  # default: ``filler_test(settings)``, loaded on first use
        self._model: ThemeModel | None = None
        self._version: str | None = None
        self._redirect: dict[str, str] = {}
        self._checked = float("-inf")
        self._missing: str | None = None
        self._lock = threading.Lock()

    def __call__(self, texts: list[str], vectors: np.ndarray) -> list[str | None]:
        model, redirect = self._current()
        if model is None:
            return [None] * len(texts)
        if self._is_filler is None:
            self._is_filler = filler_test(self.settings)
        ids, _ = model.assign(vectors, redirect)
        left_out = self._is_filler(texts, vectors)
        return [None if skip else theme for theme, skip in zip(ids, left_out, strict=True)]

    def _current(self) -> tuple[ThemeModel | None, dict[str, str]]:
        with self._lock:
            if time.monotonic() - self._checked >= self.REFRESH_S:
                self._refresh()
                self._checked = time.monotonic()
            return self._model, self._redirect

    def _refresh(self) -> None:
        version = self.store.themes_version()
        if version is not None and version != self._version:
            try:
                self._model = ThemeModel.load(self.directory, version)
                self._version = version
            except ConfigError as exc:  # fitted elsewhere: keep serving what this process has
                if self._missing != version:  # said once per version, not every second
                    log.warning(
                        "theme model %s is not in %s (%s); keeping %s", version, self.directory, exc, self._version
                    )
                    self._missing = version
        elif version is None and self._model is None:
            self._model = ThemeModel.load(self.directory)
        self._redirect = {t.id: t.merged_into for t in self.store.list_themes() if t.merged_into}


def active_themes(store: Store, level: ThemeLevel = "theme") -> list[Theme]:
    """The active themes of a level, largest first (a catalog from before two levels: all of them)."""
    themes = at_level([t for t in store.list_themes() if t.status == "active"], level)
    return sorted(themes, key=lambda t: (-t.size, t.id))


def discover_file(
    source: Path,
    target: Path,
    settings: Settings,
    *,
    input_format: str | None = None,
    text_column: str | None = None,
    text_field: str | None = None,
    min_cluster_size: int | None = None,
    summary_path: Path | None = None,
) -> dict[str, object]:
    """Themes of an ad-hoc export: each good input line embedded whole, clustered, and written back
    in input order with its theme; a JSON summary of the themes beside it."""
    from vocmine.analysis.classify import read_records
    from vocmine.services.encoding import encoder_for

    records = list(read_records(source, input_format=input_format, text_column=text_column, text_field=text_field))
    good = [r for r in records if r.text is not None]
    if not good:
        raise ConfigError(f"{source} has no text to cluster", hint="check the file and --text-column/--text-field")
    encoder = encoder_for(settings)
    texts = [r.text or "" for r in good]
    vectors = encoder.encode(texts)
    filler = filler_test(settings)(texts, vectors)
    content = np.flatnonzero(~filler)
    note: str | None = None
    try:
        discovery = discover(
            [texts[i] for i in content], vectors[content], DiscoveryParams(min_cluster_size=min_cluster_size)
        )
    except ConfigError as exc:
        # Too few texts (or no structure) is an answer, not a failure: every line is written, unassigned.
        discovery = Discovery(
            np.full(len(content), UNASSIGNED), np.zeros(len(content), np.float32), [], len(content), 0, 1.0
        )
        note = f"no themes: {exc.message}"
    model, _, _ = build_model(
        discovery,
        vectors[content],
        version=new_version(),
        encoder_version=encoder.version,
        previous=None,
        texts=[texts[i] for i in content],
        top_level_range=(settings.theme_top_min, settings.theme_top_max),
    )
    # Every line by the same rule (nearest centroid), so identical lines get the same theme; filler none.
    served, similarity = model.assign(vectors)
    assigned = [None if skip else theme for theme, skip in zip(served, filler, strict=True)]
    by_id = {t.id: t for t in model.themes}
    theme_of = {id(r): (a, s) for r, a, s in zip(good, assigned, similarity, strict=True)}
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        for record in records:
            if record.text is None:
                row: dict[str, object] = {"line": record.line, "error": record.error}
            else:
                theme_id, score = theme_of[id(record)]
                row = {
                    "line": record.line,
                    "theme_id": theme_id,
                    "theme_label": by_id[theme_id].display_name if theme_id else None,
                    "similarity": round(float(score), 4),
                }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = {
        "input": str(source),
        "texts": len(good),
        "errors": len(records) - len(good),
        "unassigned_share": round(sum(a is None for a in assigned) / len(assigned), 4),
        "filler_share": round(float(filler.mean()), 4),
        "min_cluster_size": discovery.min_cluster_size,
        "themes": [
            {
                "id": t.id,
                "label": t.label,
                "keywords": t.keywords,
                "phrase": t.phrase,
                "size": t.size,
                "parent": t.parent,
            }
            for t in model.themes
            if t.status == "active"
        ],
        "hierarchy": model.hierarchy,
        **({"note": note} if note else {}),
    }
    summary_file = summary_path or target.with_name(target.stem + ".themes.json")
    summary_file.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary["summary_file"] = str(summary_file)
    return summary


def _encoder_version(settings: Settings) -> str:
    from vocmine.analysis.encoder import Encoder

    return Encoder(settings.encoder).version


def _embed_seeds(settings: Settings, seeds: list) -> np.ndarray:  # type: ignore[type-arg]
    from vocmine.analysis.themes.discovery import normalise
    from vocmine.services.encoding import encoder_for

    encoder = encoder_for(settings)
    rows = []
    for seed in seeds:
        texts = [t for t in (seed.description, *seed.examples) if t]
        rows.append(normalise(encoder.encode(texts)).mean(axis=0))
    return normalise(np.stack(rows))

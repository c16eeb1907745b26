"""Wires the theme model to a store and to files: ``vocmine themes fit|list|rename|merge|discover``.

``fit_store_themes`` reads every analysed segment's text and stored vector (nothing is re-embedded),
discovers themes (``analysis/themes/discovery.py``), gives them stable ids against the previous fit and the
store's curation (``analysis/themes/catalog.py``), saves the artifact in the themes folder and
writes the catalog and every segment's theme to the store. New segments analysed later are
assigned by the same model in the pipeline (``theme_assigner``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocmine.analysis.themes.catalog import AssignmentWriter, ThemeModel, build_model, load_seeds, new_version
from vocmine.analysis.themes.discovery import UNASSIGNED, Discovery, DiscoveryParams, discover
from vocmine.errors import ConfigError
from vocmine.schema import Theme
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import ConversationFilter


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
) -> FitReport:
    """Two passes over the stored segments, so memory stays bounded by the sample whatever the
    store's size: the first draws a uniform sample (reservoir) of at most ``theme_sample`` segments
    and fits on it; the second assigns every segment in batches (the sample keeps its fitted theme,
    the others take the nearest centroid) and writes the assignments."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    sample_ids, texts, vectors, total = _reservoir(store, filter, settings.theme_sample)
    if total == 0:
        raise ConfigError("the store holds no analysed segments", hint="run `vocmine analyze` first")
    say(f"clustering {len(sample_ids):,} of {total:,} segments")
    params = DiscoveryParams(sample_size=len(sample_ids), min_cluster_size=min_cluster_size)
    discovery = discover(texts, vectors, params)
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
    )
    fitted = {sid: (theme, float(sim)) for sid, theme, sim in zip(sample_ids, assigned, similarity, strict=True)}
    del texts, vectors
    say(f"assigning {total:,} segments")
    redirect = {t.id: t.merged_into for t in model.themes if t.merged_into}
    unassigned = 0
    with AssignmentWriter(directory, version) as writer:
        for batch_ids, _, batch_vectors in store.iter_segment_texts(filter):
            nearest, nearest_similarity = model.assign(batch_vectors, redirect)
            rows = [
                (sid, *fitted.get(sid, (theme, float(sim))))
                for sid, theme, sim in zip(batch_ids, nearest, nearest_similarity, strict=True)
            ]
            writer.write(rows)
            store.assign_themes((sid, theme) for sid, theme, _ in rows)
            unassigned += sum(theme is None for _, theme, _ in rows)
    model.stats.update({"segments": total, "unassigned_share": round(unassigned / total, 4)})
    target = model.save(directory)  # last: CURRENT moves to the new model once every segment has its theme
    store.replace_themes(model.themes, version)
    latest = model.history[-1]
    return FitReport(
        version=version,
        segments=total,
        fitted_on=discovery.fitted_on,
        themes=len(model.active_ids),
        new=list(latest["new"]),  # type: ignore[call-overload]
        kept=dict(latest["kept"]),  # type: ignore[call-overload]
        retired=list(latest["retired"]),  # type: ignore[call-overload]
        seeded=list(latest["seeded"]),  # type: ignore[call-overload]
        unassigned_share=round(unassigned / total, 4),
        noise_share_before_reassignment=discovery.noise_share_before_reassignment,
        min_cluster_size=discovery.min_cluster_size,
        seconds=round(time.perf_counter() - started, 1),
        artifact=str(target),
    )


def _reservoir(
    store: Store, filter: ConversationFilter | None, size: int, seed: int = 42
) -> tuple[list[str], list[str], np.ndarray, int]:
    """A uniform sample of at most ``size`` segments (ids, texts, vectors) in one pass, and the count."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    texts: list[str] = []
    rows: list[np.ndarray] = []
    seen = 0
    for batch_ids, batch_texts, batch_vectors in store.iter_segment_texts(filter):
        for sid, text, vector in zip(batch_ids, batch_texts, batch_vectors, strict=True):
            if seen < size:
                ids.append(sid)
                texts.append(text)
                rows.append(np.array(vector, dtype=np.float32))  # a copy: the batch can be freed
            else:
                slot = int(rng.integers(0, seen + 1))
                if slot < size:
                    ids[slot], texts[slot], rows[slot] = sid, text, np.array(vector, dtype=np.float32)
            seen += 1
    matrix = np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
    return ids, texts, matrix, seen


def theme_assigner(settings: Settings, store: Store) -> Callable[[np.ndarray], list[str | None]] | None:
    """The current theme model as the pipeline's theme head (merges applied), or None before any fit."""
    model = ThemeModel.load(themes_dir(settings))
    if model is None:
        return None
    redirect = {t.id: t.merged_into for t in store.list_themes() if t.merged_into}

    def assign(vectors: np.ndarray) -> list[str | None]:
        return model.assign(vectors, redirect)[0]

    return assign


def active_themes(store: Store) -> list[Theme]:
    return sorted((t for t in store.list_themes() if t.status == "active"), key=lambda t: (-t.size, t.id))


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
    from vocmine.analysis.encoder import Encoder

    records = list(read_records(source, input_format=input_format, text_column=text_column, text_field=text_field))
    good = [r for r in records if r.text is not None]
    if not good:
        raise ConfigError(f"{source} has no text to cluster", hint="check the file and --text-column/--text-field")
    encoder = Encoder(settings.encoder)
    vectors = encoder.encode([r.text or "" for r in good])
    try:
        discovery = discover([r.text or "" for r in good], vectors, DiscoveryParams(min_cluster_size=min_cluster_size))
    except ConfigError as exc:
        # Too few texts (or no structure) is an answer, not a failure: every line is written, unassigned.
        discovery = Discovery(np.full(len(good), UNASSIGNED), np.zeros(len(good), np.float32), [], len(good), 0, 1.0)
        note = f"no themes: {exc.message}"
    else:
        note = None  # type: ignore[assignment]  # a str only when there are no themes
    model, assigned, similarity = build_model(
        discovery, vectors, version=new_version(), encoder_version=encoder.version, previous=None
    )
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
        "unassigned_share": model.stats["unassigned_share"],
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
    from vocmine.analysis.encoder import Encoder
    from vocmine.analysis.themes.discovery import normalise

    encoder = Encoder(settings.encoder)
    rows = []
    for seed in seeds:
        texts = [t for t in (seed.description, *seed.examples) if t]
        rows.append(normalise(encoder.encode(texts)).mean(axis=0))
    return normalise(np.stack(rows))

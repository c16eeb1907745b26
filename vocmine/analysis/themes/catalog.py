"""The theme catalog: stable ids across re-fits, analysts' curation, seeded taxonomies, the artifact.

**Stable ids.** A re-fit pairs each new cluster with at most one theme of the previous model by the
cosine similarity of their centroids (one-to-one, maximising total similarity: the Hungarian
method). A pair at or above ``MATCH_SIMILARITY`` keeps the old id; a new cluster without a pair gets
a fresh id (``t<n>``, never reused); an old theme without a pair is kept as ``retired`` so old trend
points keep their label. Every re-fit records this mapping in the artifact's history.

**Curation is never lost.** Names given by analysts and merges are kept on the theme ids (in the
store), and a re-fit maps new clusters onto curated themes first:

1. A *curated* theme is one an analyst renamed or merged other themes into. It stands for its own
   centroid in the previous model and those of every theme merged into it.
2. Every new cluster whose centroid is at least ``CURATED_ABSORB`` similar to one of those becomes
   that curated theme (several clusters may: they are pooled, as a merge would pool them).
3. The other clusters are matched to the previous model's themes as above. One that matches a
   merged theme is served as the theme it was merged into.
4. A theme that segments are served as is active, whatever it was before; so a renamed or
   merge-target theme is never retired while segments map to it or to a theme merged into it. A
   curated theme with no segment left is retired but keeps its name and merges, so it comes back
   under the same id and name if its segments do.

**Seeding.** A taxonomy file (TOML: ``[[theme]]`` with ``name``, ``description``, ``examples``)
gives themes found by name: each seed's centroid is the mean embedding of its description and
examples; discovered clusters close to a seed (``SEED_ABSORB``) become that seed's theme, and any
segment closer to a seed than to its own theme (and at least ``SEED_MEMBER`` similar) joins it.
Seeds without a matching cluster still exist, with the segments near them.
"""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.themes.discovery import UNASSIGNED, Discovery, hierarchy, nearest_centroid, normalise
from vocmine.analysis.themes.levels import TOP_LEVEL_RANGE, build_top_level, previous_group_centroids
from vocmine.errors import ConfigError
from vocmine.schema import Theme, stable_hash

MATCH_SIMILARITY = 0.8
CURATED_ABSORB = 0.7
SEED_ABSORB = 0.6
SEED_MEMBER = 0.5
ARTIFACT = "themes.safetensors"
ASSIGNMENTS = "assignments.jsonl.gz"
CURRENT = "CURRENT"


@dataclass(frozen=True)
class SeedTheme:
    id: str
    name: str
    description: str
    examples: tuple[str, ...]


def load_seeds(path: Path) -> list[SeedTheme]:
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the theme taxonomy {path}: {exc}", hint="fix the file or its path") from exc
    seeds: list[SeedTheme] = []
    for number, entry in enumerate(document.get("theme", []), start=1):
        where = f"{path}, [[theme]] #{number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ConfigError(f"{where} has no name", hint='give it name = "..."')
        unknown = set(entry) - {"name", "description", "examples"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}", hint="use name, description, examples")
        examples = entry.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            raise ConfigError(
                f"{where}: examples must be a list of non-empty strings", hint='examples = ["...", "..."]'
            )
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise ConfigError(f"{where}: description must be a string", hint='description = "..."')
        if not examples and not description.strip():
            raise ConfigError(f"{where} has neither description nor examples", hint="give a few example phrases")
        name = entry["name"].strip()
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or stable_hash(name, length=8)
        seeds.append(SeedTheme(id=f"seed-{slug}", name=name, description=description.strip(), examples=tuple(examples)))
    if not seeds:
        raise ConfigError(f"no [[theme]] entries in {path}", hint="see docs/themes.md for the taxonomy format")
    ids = [s.id for s in seeds]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"theme names repeat in {path}", hint="give each [[theme]] its own name")
    return seeds


@dataclass
class ThemeModel:
    """A fitted theme model: catalog entries of its active themes and their centroids. Assignment
    is nearest centroid by cosine, so serving needs neither UMAP nor HDBSCAN."""

    version: str
    encoder_version: str
    themes: list[Theme]  # every theme ever made, active or not
    centroids: np.ndarray  # rows follow ``active_ids``
    active_ids: list[str]  # the theme each centroid serves; a theme pooled from several clusters has several
    min_similarity: float
    hierarchy: list[dict[str, object]] = field(default_factory=list)
    history: list[dict[str, object]] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)

    def assign(
        self, vectors: np.ndarray, redirect: dict[str, str] | None = None
    ) -> tuple[list[str | None], np.ndarray]:
        """Theme id (after merges in ``redirect``) or None, and cosine similarity, per vector."""
        labels, similarity = nearest_centroid(vectors, self.centroids, self.min_similarity)
        resolve = _resolver(redirect or {})
        return [resolve(self.active_ids[i]) if i != UNASSIGNED else None for i in labels], similarity

    def save(self, directory: Path) -> Path:
        from safetensors.numpy import save_file

        target = Path(directory) / self.version
        target.mkdir(parents=True, exist_ok=True)
        document = {
            "version": self.version,
            "encoder_version": self.encoder_version,
            "themes": [t.model_dump(mode="json") for t in self.themes],
            "active_ids": self.active_ids,
            "min_similarity": self.min_similarity,
            "hierarchy": self.hierarchy,
            "history": self.history,
            "stats": self.stats,
        }
        save_file(
            {"centroids": np.ascontiguousarray(self.centroids, dtype=np.float32)},
            str(target / ARTIFACT),
            metadata={"model": json.dumps(document)},
        )
        (Path(directory) / CURRENT).write_text(self.version + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, directory: Path, version: str | None = None) -> ThemeModel | None:
        """The current (or named) model in ``directory``, or None when no theme model was fitted."""
        from safetensors import safe_open

        directory = Path(directory)
        if version is None:
            pointer = directory / CURRENT
            if not pointer.exists():
                return None
            version = pointer.read_text(encoding="utf-8").strip()
        path = directory / version / ARTIFACT
        if not path.exists():
            raise ConfigError(f"theme model {path} is missing", hint="run `vocmine themes fit` again")
        with safe_open(str(path), framework="numpy") as handle:
            document = json.loads(handle.metadata()["model"])
            centroids = handle.get_tensor("centroids")
        return cls(
            version=document["version"],
            encoder_version=document["encoder_version"],
            themes=[Theme.model_validate(t) for t in document["themes"]],
            centroids=centroids,
            active_ids=list(document["active_ids"]),
            min_similarity=float(document["min_similarity"]),
            hierarchy=document["hierarchy"],
            history=document["history"],
            stats=document["stats"],
        )


class AssignmentWriter:
    """Every segment's theme beside the model (gzip JSONL: segment, theme, similarity), written in
    batches so a fit over millions of segments never holds them all."""

    def __init__(self, directory: Path, version: str) -> None:
        folder = Path(directory) / version
        folder.mkdir(parents=True, exist_ok=True)
        self._out = gzip.open(folder / ASSIGNMENTS, "wt", encoding="utf-8")  # noqa: SIM115 - closed by __exit__
        self.count = 0

    def write(self, rows: Iterable[tuple[str, str | None, float]]) -> None:
        for segment_id, theme_id, similarity in rows:
            record = {"segment": segment_id, "theme": theme_id, "similarity": round(float(similarity), 4)}
            self._out.write(json.dumps(record) + "\n")
            self.count += 1

    def __enter__(self) -> AssignmentWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self._out.close()


def new_version(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return "themes-" + now.strftime("%Y%m%dT%H%M%S%fZ")


def build_model(
    discovery: Discovery,
    vectors: np.ndarray,
    *,
    version: str,
    encoder_version: str,
    previous: ThemeModel | None,
    curated: Sequence[Theme] = (),
    seeds: Sequence[SeedTheme] = (),
    seed_vectors: np.ndarray | None = None,
    min_similarity: float = 0.3,
    texts: Sequence[str] | None = None,
    top_level_range: tuple[int, int] = TOP_LEVEL_RANGE,
    mentions: Any = None,
    regroup: bool = False,
) -> tuple[ThemeModel, list[str | None], np.ndarray]:
    """Turn a discovery into a catalogued model with stable ids and two levels (``levels.py``);
    returns the model and each segment's theme id (merges applied) and similarity. ``texts`` (one
    per vector) are what the top-level themes are labelled from. ``mentions``: a sparse 0/1 matrix,
    conversations × the discovery's clusters (``cluster_mentions``), which the grouping into
    top-level themes reads co-occurrence from; None where there are no conversations. ``regroup``:
    group the sub-themes into top-level themes afresh instead of keeping the previous grouping."""
    vectors = normalise(vectors)
    labels = discovery.labels.copy()
    centroids = [c.centroid for c in discovery.clusters]
    cluster_ids: list[str | None] = [None] * len(centroids)
    seed_of_cluster: dict[int, int] = {}
    if seeds:
        if seed_vectors is None or len(seed_vectors) != len(seeds):
            raise ValueError("seed_vectors must hold one vector per seed")
        seed_vectors = normalise(seed_vectors)
        if len(centroids):
            closeness = np.stack(centroids) @ seed_vectors.T
            for i, row in enumerate(closeness):
                if row.max() >= SEED_ABSORB:
                    seed_of_cluster[i] = int(row.argmax())
    # Stable ids for the clusters no seed took.
    # The store's catalog (with analysts' names and merges) wins over the previous fit's snapshot.
    known = {t.id: t for t in (previous.themes if previous else [])}
    known.update({t.id: t for t in curated})
    redirect = {t.id: t.merged_into for t in known.values() if t.merged_into}
    resolve = _resolver(redirect)
    to_curated = _curated_matches(previous, curated, centroids, exclude=set(seed_of_cluster), resolve=resolve)
    matches = _match(previous, centroids, exclude=set(seed_of_cluster) | set(to_curated))
    next_number = 1 + max([_number(i) for i in known] or [0])
    for i in range(len(centroids)):
        if i in seed_of_cluster:
            cluster_ids[i] = seeds[seed_of_cluster[i]].id
        elif i in to_curated:
            cluster_ids[i] = to_curated[i][0]
        elif i in matches:
            # A cluster found again as a theme that was merged away is served as the merge's target.
            cluster_ids[i] = resolve(matches[i][0])
        else:
            cluster_ids[i] = f"t{next_number}"
            next_number += 1
    # Serve one centroid per theme: clusters a seed absorbed are pooled, and seeds stand on their own.
    ids: list[str] = []
    for theme_id in cluster_ids:
        if theme_id is not None and theme_id not in ids:
            ids.append(theme_id)
    for seed in seeds:
        if seed.id not in ids:
            ids.append(seed.id)
    segment_ids: list[str | None] = [cluster_ids[c] if c != UNASSIGNED else None for c in labels]
    similarity = discovery.similarities.copy()
    if seeds and seed_vectors is not None:
        to_seed = vectors @ seed_vectors.T
        best_seed = to_seed.argmax(axis=1)
        best = to_seed[np.arange(len(vectors)), best_seed]
        move = (best >= SEED_MEMBER) & ((best > similarity) | (labels == UNASSIGNED))
        for row in np.flatnonzero(move):
            segment_ids[row] = seeds[int(best_seed[row])].id
            similarity[row] = best[row]
    members: dict[str, list[int]] = {theme_id: [] for theme_id in ids}
    for row, theme_id in enumerate(segment_ids):
        if theme_id is not None:
            members[theme_id].append(row)
    seed_by_id = {s.id: (s, seed_vectors[n]) for n, s in enumerate(seeds)} if seeds and seed_vectors is not None else {}
    served = []
    for theme_id in ids:
        rows = members[theme_id]
        if rows:
            served.append(normalise(vectors[rows].mean(axis=0, keepdims=True))[0])
        else:
            served.append(seed_by_id[theme_id][1])
    served_centroids = np.stack(served) if served else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    row_ids, row_centroids = _serving_rows(labels, cluster_ids, segment_ids, vectors, ids, served_centroids)

    curation = {t.id: t for t in curated}
    themes: dict[str, Theme] = {}
    for theme_id in ids:
        clusters = [discovery.clusters[i] for i, c in enumerate(cluster_ids) if c == theme_id]
        before = curation.get(theme_id) or known.get(theme_id)
        seed_found = seed_by_id.get(theme_id)
        seed = seed_found[0] if seed_found else None  # type: ignore[assignment]
        keywords = clusters[0].keywords if clusters else []
        phrase = clusters[0].phrase if clusters else ""
        if len(clusters) > 1:
            keywords = _merge_keywords([c.keywords for c in clusters])
        themes[theme_id] = Theme(
            id=theme_id,
            label=_label(clusters[0].label if clusters else "", keywords, seed.name if seed else None),
            name=(before.name if before and before.name else None) or (seed.name if seed else None),
            description=seed.description if seed else (before.description if before else None),
            keywords=keywords,
            phrase=phrase,
            size=len(members[theme_id]),
            status="active",  # served: segments map to it
            merged_into=None,
            seeded=seed is not None,
            first_version=before.first_version if before and before.first_version else version,
            model_version=version,
            match_similarity=next(
                (round(s, 4) for m, s in [*matches.values(), *to_curated.values()] if resolve(m) == theme_id), None
            ),
        )
    for theme_id in ids:
        if themes[theme_id].seeded:
            themes[theme_id].level = "theme"  # a seed is a top-level theme of its own
    top_level = build_top_level(
        {i: themes[i] for i in ids},
        {i: served_centroids[n] for n, i in enumerate(ids)},
        {i: [texts[r] for r in members[i]] for i in ids} if texts is not None else {},
        known=known,
        previous_groups=previous_group_centroids(previous.active_ids, previous.centroids, previous.themes)
        if previous
        else {},
        previous_parents={t.id: t.parent for t in previous.themes if t.level == "subtheme" and t.parent}
        if previous
        else {},
        resolve=resolve,
        version=version,
        bounds=top_level_range,
        together=_together(mentions, cluster_ids) if mentions is not None else None,
        regroup=regroup,
    )
    themes.update({group.id: group for group in top_level})
    retired: list[str] = []
    retired_top_level: list[str] = []
    for theme_id, old in known.items():
        if theme_id not in themes:
            status = "merged" if old.merged_into else "retired"
            if old.status == "active" and status == "retired":
                (retired_top_level if old.level == "theme" else retired).append(theme_id)
            themes[theme_id] = old.model_copy(update={"status": status, "parent": None})
    redirect = {t.id: t.merged_into for t in themes.values() if t.merged_into}
    resolve = _resolver(redirect)
    assigned = [resolve(t) if t is not None else None for t in segment_ids]
    history_kept = {m: round(s, 4) for m, s in matches.values()}
    history_kept.update({m: round(s, 4) for m, s in to_curated.values()})
    history = list(previous.history) if previous else []
    history.append(
        {
            "version": version,
            "previous_version": previous.version if previous else None,
            "match_similarity": MATCH_SIMILARITY,
            "kept": history_kept,
            "new": [i for i in ids if i not in known and not i.startswith("seed-")],
            "seeded": [s.id for s in seeds],
            "retired": retired,
            "top_level": sorted(t.id for t in top_level),
            "retired_top_level": retired_top_level,
        }
    )
    model = ThemeModel(
        version=version,
        encoder_version=encoder_version,
        themes=sorted(themes.values(), key=lambda t: (t.status != "active", -t.size, t.id)),
        centroids=row_centroids,
        active_ids=row_ids,
        min_similarity=min_similarity,
        hierarchy=hierarchy(served_centroids, ids),
        history=history,
        stats={
            "segments": len(labels),
            "fitted_on": discovery.fitted_on,
            "min_cluster_size": discovery.min_cluster_size,
            "noise_share_before_reassignment": round(discovery.noise_share_before_reassignment, 4),
            "unassigned_share": round(sum(a is None for a in assigned) / max(1, len(assigned)), 4),
            "themes": len(ids),
            "top_level_themes": sum(t.level == "theme" for t in themes.values() if t.status == "active"),
        },
    )
    return model, assigned, similarity


def cluster_mentions(batches: Iterable[tuple[list[str], np.ndarray]], clusters: int) -> Any:
    """The sparse 0/1 matrix of which conversations mention which clusters, from batches of
    (conversation id, cluster index) per segment; an index below 0 (no cluster) is skipped. Memory
    is one integer per distinct pair and one row number per conversation."""
    from scipy.sparse import csr_matrix

    rows: dict[str, int] = {}
    keys: list[np.ndarray] = []
    for conversation_ids, cluster_of in batches:
        row_of = np.fromiter((rows.setdefault(c, len(rows)) for c in conversation_ids), dtype=np.int64)
        found = np.asarray(cluster_of) >= 0
        keys.append(np.unique(row_of[found] * clusters + np.asarray(cluster_of)[found]))
    pairs = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    return csr_matrix(
        (np.ones(len(pairs), dtype=np.float32), (pairs // clusters, pairs % clusters)),
        shape=(max(1, len(rows)), clusters),
    )


def _together(mentions: Any, cluster_ids: list[str | None]) -> Callable[[list[str]], np.ndarray]:
    """``together(ids)``: how many conversations mention both of two themes (the diagonal: each
    theme), a theme being mentioned when one of its clusters is."""
    from scipy.sparse import csr_matrix

    def together(ids: list[str]) -> np.ndarray:
        position = {theme_id: n for n, theme_id in enumerate(ids)}
        pairs = [(c, position[t]) for c, t in enumerate(cluster_ids) if t in position]
        projection = csr_matrix(
            (np.ones(len(pairs), dtype=np.float32), ([c for c, _ in pairs], [k for _, k in pairs])),
            shape=(len(cluster_ids), len(ids)),
        )
        mentioned = (mentions @ projection > 0).astype(np.float32)
        return np.asarray((mentioned.T @ mentioned).todense())

    return together


def _serving_rows(
    labels: np.ndarray,
    cluster_ids: list[str | None],
    segment_ids: list[str | None],
    vectors: np.ndarray,
    ids: list[str],
    theme_centroids: np.ndarray,
) -> tuple[list[str], np.ndarray]:
    """The centroids new segments are compared with, and the theme each one serves: one per cluster
    (a theme that pooled several clusters – a merge, a seed, a curated theme taking its fragments –
    keeps one per part, because their mean would describe none of them and lose segments to other
    themes), and the theme's own centroid for a theme without a cluster (a seed found by name)."""
    row_ids: list[str] = []
    rows: list[np.ndarray] = []
    for cluster, theme_id in enumerate(cluster_ids):
        own = [r for r in np.flatnonzero(labels == cluster) if segment_ids[r] == theme_id]
        if theme_id is not None and own:
            row_ids.append(theme_id)
            rows.append(normalise(vectors[own].mean(axis=0, keepdims=True))[0])
    for n, theme_id in enumerate(ids):
        if theme_id not in row_ids:
            row_ids.append(theme_id)
            rows.append(theme_centroids[n])
    matrix = np.stack(rows).astype(np.float32) if rows else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    return row_ids, matrix


def _match(previous: ThemeModel | None, centroids: list[np.ndarray], exclude: set[int]) -> dict[int, tuple[str, float]]:
    """New cluster index → (previous theme id, similarity) for the pairs that keep their id."""
    if previous is None or not len(previous.active_ids) or not centroids:
        return {}
    from scipy.optimize import linear_sum_assignment

    candidates = [i for i in range(len(centroids)) if i not in exclude]
    old = [(n, theme_id) for n, theme_id in enumerate(previous.active_ids) if not theme_id.startswith("seed-")]
    if not candidates or not old:
        return {}
    similarity = np.stack([centroids[i] for i in candidates]) @ previous.centroids[[n for n, _ in old]].T
    rows, cols = linear_sum_assignment(-similarity)
    return {
        candidates[r]: (old[c][1], float(similarity[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= MATCH_SIMILARITY
    }


def _curated_matches(
    previous: ThemeModel | None,
    curated: Sequence[Theme],
    centroids: list[np.ndarray],
    exclude: set[int],
    resolve: Callable[[str], str],
) -> dict[int, tuple[str, float]]:
    """New cluster index → (curated theme id, similarity) for every cluster at least
    ``CURATED_ABSORB`` similar to a centroid that stands for a curated theme (its own in the previous
    model, or one of a theme merged into it). Several clusters may go to one curated theme."""
    if previous is None or not len(previous.active_ids) or not centroids:
        return {}
    targets = {t.id for t in curated if t.name} | {resolve(t.id) for t in curated if t.merged_into}
    standing = [(n, resolve(theme_id)) for n, theme_id in enumerate(previous.active_ids)]
    standing = [(n, target) for n, target in standing if target in targets]
    candidates = [i for i in range(len(centroids)) if i not in exclude]
    if not standing or not candidates:
        return {}
    similarity = np.stack([centroids[i] for i in candidates]) @ previous.centroids[[n for n, _ in standing]].T
    found: dict[int, tuple[str, float]] = {}
    for row, cluster in enumerate(candidates):
        best = int(similarity[row].argmax())
        if similarity[row, best] >= CURATED_ABSORB:
            found[cluster] = (standing[best][1], float(similarity[row, best]))
    return found


def _resolver(redirect: dict[str, str]) -> Callable[[str], str]:
    def resolve(theme_id: str) -> str:
        seen = set()
        while theme_id in redirect and theme_id not in seen:
            seen.add(theme_id)
            theme_id = redirect[theme_id]
        return theme_id

    return resolve


def _number(theme_id: str) -> int:
    match = re.fullmatch(r"t(\d+)", theme_id)
    return int(match.group(1)) if match else 0


def _merge_keywords(lists: list[list[str]]) -> list[str]:
    merged: list[str] = []
    for rank in range(max(len(k) for k in lists)):
        for keywords in lists:
            if rank < len(keywords) and keywords[rank] not in merged:
                merged.append(keywords[rank])
    return merged[:8]


def _label(found: str, keywords: list[str], seed_name: str | None) -> str:
    """The seed's name, else the key phrase discovery found, else the first keywords."""
    if seed_name:
        return seed_name
    if found:
        return found
    words = [k for k in keywords if k.strip()][:3]
    return ", ".join(words) if words else "theme"

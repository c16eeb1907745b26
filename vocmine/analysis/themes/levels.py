"""Two levels of themes. Segments belong to *sub-themes*: the fine clusters that discovery finds.
Sub-themes are grouped into *top-level themes*, sized for an analyst: by default between
``TOP_LEVEL_RANGE`` themes.

* **How many groups.** Average-linkage clustering of the sub-themes' centroids (cosine), cut where
  sub-themes stop being closer than ``GROUP_DISTANCE``; the cut is moved when that gives fewer or
  more groups than the range allows. A corpus with fewer sub-themes than the range's minimum keeps
  one top-level theme per sub-theme.
* **Which sub-themes go together.** Ward linkage, cut at that many groups, over what each sub-theme
  says (its centroid) and where it is said: its *co-occurrence profile*, the Jaccard overlap of the
  conversations that mention it with those that mention each other sub-theme. Customers talk about
  one subject in several ways in one conversation ("the eSIM won't activate" … "I've restarted the
  phone many times"), so sub-themes of one subject share conversations even when their sentences do
  not look alike. The two parts weigh the same (``COOCCURRENCE_WEIGHT``). Where conversations hold
  one content segment each (a file of single queries), each profile is its sub-theme's own axis,
  which adds the same cost to every Ward merge: only the centroids count.
  Ward, not average linkage: average linkage over many sub-themes chains them into one group that
  holds nearly everything (on CFPB complaint narratives one group took 92% of the segments), while
  Ward keeps groups of comparable spread. Measured in ``docs/themes.md``.
* **A re-fit keeps the grouping.** Sub-themes found again (the same id) stay in the top-level theme
  they were in (after merges); a new sub-theme joins the top-level theme whose centroid is closest
  when it is within ``GROUP_DISTANCE``, and new sub-themes far from all of them are grouped among
  themselves. Analysts keep the themes they know while data arrives. The grouping starts afresh
  (``regroup``, ``vocmine themes fit --regroup``) on request, when fewer than half of the segments
  are in sub-themes found again, or when keeping it would leave the count outside the range.
* **Stable ids** (``g<n>``, never reused). A re-fit pairs each new group with at most one group of
  the previous fit, one-to-one, and a paired group keeps the old id, and with it any name an
  analyst gave. Groups are paired first by the sub-themes they share (sub-theme ids are themselves
  stable): the Jaccard overlap of their sub-themes, weighted by size, at least ``GROUP_KEEP``; the
  groups left are paired by centroid similarity, at least ``GROUP_MATCH``. A group matched to a
  top-level theme that was merged away is served as the merge's target.
* **Seeds** from a taxonomy are top-level themes of their own.
* **Insights at the top level** count a conversation once per top-level theme, however many of its
  sub-themes it mentions. The store is asked with the map from sub-theme to top-level theme
  (``level_map``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from vocmine.analysis.themes.discovery import normalise
from vocmine.analysis.themes.labels import describe
from vocmine.schema import Theme, ThemeLevel

TOP_LEVEL_RANGE = (10, 40)
GROUP_DISTANCE = 0.55
GROUP_MATCH = 0.8
GROUP_KEEP = 0.5
COOCCURRENCE_WEIGHT = 0.5


def group_subthemes(
    centroids: np.ndarray, bounds: tuple[int, int] = TOP_LEVEL_RANGE, together: np.ndarray | None = None
) -> np.ndarray:
    """The group (0…k-1) of each sub-theme. ``centroids``: unit rows; ``together[i, j]``: how many
    conversations mention both sub-themes i and j (the diagonal: how many mention i), or None."""
    n = len(centroids)
    if n <= max(1, bounds[0]):
        return np.arange(n)
    from scipy.cluster.hierarchy import fcluster, linkage

    count = group_count(centroids, bounds)
    features = np.asarray(centroids, dtype=np.float64)
    if together is not None:
        profile = cooccurrence_profile(together)
        features = np.hstack([np.sqrt(1 - COOCCURRENCE_WEIGHT) * features, np.sqrt(COOCCURRENCE_WEIGHT) * profile])
    labels = fcluster(linkage(features, method="ward"), t=count, criterion="maxclust")
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def group_count(centroids: np.ndarray, bounds: tuple[int, int]) -> int:
    """How many top-level themes: the groups of sub-themes closer than ``GROUP_DISTANCE`` on
    average, kept within ``bounds``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(centroids, method="average", metric="cosine")
    count = int(fcluster(tree, t=GROUP_DISTANCE, criterion="distance").max())
    return min(max(count, bounds[0]), bounds[1])


def cooccurrence_profile(together: np.ndarray) -> np.ndarray:
    """Each sub-theme's row of Jaccard overlaps (conversations mentioning both over conversations
    mentioning either; 1 with itself), scaled to unit length: two sub-themes mentioned in the same
    conversations have the same profile. A sub-theme no conversation mentions has a row of zeros."""
    together = np.asarray(together, dtype=np.float64)
    alone = np.diag(together)
    jaccard = together / np.maximum(alone[:, None] + alone[None, :] - together, 1e-9)
    norms = np.linalg.norm(jaccard, axis=1, keepdims=True)
    return np.where(norms > 0, jaccard / np.maximum(norms, 1e-12), 0.0)


def build_top_level(
    subthemes: dict[str, Theme],
    centroids: dict[str, np.ndarray],
    texts: dict[str, list[str]],
    *,
    known: dict[str, Theme],
    previous_groups: dict[str, np.ndarray],
    previous_parents: dict[str, str] | None = None,
    resolve: Callable[[str], str],
    version: str,
    bounds: tuple[int, int] = TOP_LEVEL_RANGE,
    together: Callable[[list[str]], np.ndarray] | None = None,
    regroup: bool = False,
) -> list[Theme]:
    """Top-level themes over the given sub-themes (seeds excluded: they are top-level already); sets
    each sub-theme's ``parent``. ``previous_groups``: the previous fit's top-level centroids by id;
    ``previous_parents``: its top-level theme of each sub-theme.
    ``together(ids)``: the conversation co-occurrence counts of those sub-themes, when known;
    ``regroup``: group afresh instead of keeping the previous grouping."""
    ids = [i for i in subthemes if not subthemes[i].seeded]
    if not ids:
        return []
    matrix = normalise(np.stack([centroids[i] for i in ids]))
    kept = None if regroup else _keep_grouping(ids, matrix, subthemes, previous_parents or {}, resolve, bounds)
    group_of = kept if kept is not None else group_subthemes(matrix, bounds, together(ids) if together else None)
    count = int(group_of.max()) + 1
    members = [[ids[n] for n in np.flatnonzero(group_of == g)] for g in range(count)]
    weights = [np.array([max(1, subthemes[i].size) for i in m], dtype=np.float32) for m in members]
    group_centroids = [
        normalise((np.stack([centroids[i] for i in m]) * w[:, None]).sum(axis=0, keepdims=True))[0]
        for m, w in zip(members, weights, strict=True)
    ]
    matched = _match_by_subthemes(members, weights, previous_parents or {})
    left_old = {i: c for i, c in previous_groups.items() if i not in {m for m, _ in matched.values()}}
    left_new = [g for g in range(count) if g not in matched]
    by_centroid = _match_groups([group_centroids[g] for g in left_new], left_old)
    matched.update({left_new[n]: pair for n, pair in by_centroid.items()})
    next_number = 1 + max([_number(i) for i in known] or [0])
    words = describe([[t for i in m for t in texts.get(i, [])] for m in members])
    out: list[Theme] = []
    for g, member_ids in enumerate(members):
        if g in matched:
            group_id, similarity = resolve(matched[g][0]), round(matched[g][1], 4)
        else:
            group_id, similarity = f"g{next_number}", None
            next_number += 1
        before = known.get(group_id)
        for sub in member_ids:
            subthemes[sub].parent = group_id
        keywords = words[g].keywords or [k for i in member_ids for k in subthemes[i].keywords][:8]
        out.append(
            Theme(
                id=group_id,
                label=words[g].label or subthemes[member_ids[0]].label,
                name=before.name if before else None,
                description=before.description if before else None,
                keywords=keywords,
                phrase=max((subthemes[i] for i in member_ids), key=lambda t: t.size).phrase,
                size=sum(subthemes[i].size for i in member_ids),
                level="theme",
                first_version=before.first_version if before and before.first_version else version,
                model_version=version,
                match_similarity=similarity,
            )
        )
    return _pooled(out)


def _pooled(groups: list[Theme]) -> list[Theme]:
    """Two new groups resolved to one id (one matched a group merged into the other) become one."""
    by_id: dict[str, Theme] = {}
    for group in groups:
        if group.id in by_id:
            first = by_id[group.id]
            by_id[group.id] = first.model_copy(update={"size": first.size + group.size})
        else:
            by_id[group.id] = group
    return list(by_id.values())


def _keep_grouping(
    ids: list[str],
    matrix: np.ndarray,
    subthemes: dict[str, Theme],
    previous_parents: dict[str, str],
    resolve: Callable[[str], str],
    bounds: tuple[int, int],
) -> np.ndarray | None:
    """The previous fit's grouping for the sub-themes found again, new ones placed beside it; None
    when the grouping should start afresh (see the module's docstring)."""
    size = np.array([max(1, subthemes[i].size) for i in ids], dtype=np.float64)
    previous = [resolve(previous_parents[i]) if i in previous_parents else None for i in ids]
    found_again = np.array([p is not None for p in previous])
    if not found_again.any() or size[found_again].sum() < 0.5 * size.sum():
        return None
    names = sorted({p for p in previous if p is not None})
    group_of = np.array([names.index(p) if p is not None else -1 for p in previous])
    centroids = normalise(
        np.stack([(matrix[group_of == g] * size[group_of == g, None]).sum(axis=0) for g in range(len(names))])
    )
    orphans = np.flatnonzero(group_of < 0)
    if len(orphans):
        closeness = matrix[orphans] @ centroids.T
        best = closeness.argmax(axis=1)
        near = closeness[np.arange(len(orphans)), best] >= 1 - GROUP_DISTANCE
        group_of[orphans[near]] = best[near]
        far = orphans[~near]
        if len(far):
            from scipy.cluster.hierarchy import fcluster, linkage

            among = (
                fcluster(linkage(matrix[far], method="average", metric="cosine"), GROUP_DISTANCE, "distance") - 1
                if len(far) > 1
                else np.zeros(1, dtype=np.int64)
            )
            group_of[far] = len(names) + among
    count = len(np.unique(group_of))
    if not bounds[0] <= count <= bounds[1] and len(ids) > bounds[0]:
        return None
    _, dense = np.unique(group_of, return_inverse=True)
    return dense


def _match_by_subthemes(
    members: list[list[str]], weights: list[np.ndarray], previous_parents: dict[str, str]
) -> dict[int, tuple[str, float]]:
    """New group → (previous group id, size-weighted Jaccard overlap of their sub-themes), one-to-one,
    for the pairs at least ``GROUP_KEEP`` alike."""
    old = sorted({previous_parents[i] for m in members for i in m if i in previous_parents})
    if not old:
        return {}
    from scipy.optimize import linear_sum_assignment

    column = {group_id: n for n, group_id in enumerate(old)}
    shared = np.zeros((len(members), len(old)))
    for g, (member_ids, w) in enumerate(zip(members, weights, strict=True)):
        for sub, size in zip(member_ids, w, strict=True):
            if sub in previous_parents:
                shared[g, column[previous_parents[sub]]] += size
    own = np.array([w.sum() for w in weights])[:, None]
    jaccard = shared / (own + shared.sum(axis=0)[None, :] - shared)
    rows, cols = linear_sum_assignment(-jaccard)
    pairs = zip(rows, cols, strict=True)
    return {int(r): (old[c], float(jaccard[r, c])) for r, c in pairs if jaccard[r, c] >= GROUP_KEEP}


def _match_groups(centroids: list[np.ndarray], previous: dict[str, np.ndarray]) -> dict[int, tuple[str, float]]:
    if not previous or not centroids:
        return {}
    from scipy.optimize import linear_sum_assignment

    old = list(previous)
    similarity = np.stack(centroids) @ np.stack([previous[i] for i in old]).T
    rows, cols = linear_sum_assignment(-similarity)
    return {
        int(r): (old[c], float(similarity[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= GROUP_MATCH
    }


def _number(theme_id: str) -> int:
    match = re.fullmatch(r"g(\d+)", theme_id)
    return int(match.group(1)) if match else 0


def previous_group_centroids(
    active_ids: Sequence[str], rows: np.ndarray, themes: Sequence[Theme]
) -> dict[str, np.ndarray]:
    """A previous fit's top-level centroids: the mean of the rows its sub-themes are served by."""
    parent = {t.id: t.parent for t in themes if t.level == "subtheme" and t.parent}
    grouped: dict[str, list[np.ndarray]] = {}
    for n, theme_id in enumerate(active_ids):
        if theme_id in parent:
            grouped.setdefault(parent[theme_id], []).append(rows[n])
    return {g: normalise(np.stack(v).mean(axis=0, keepdims=True))[0] for g, v in grouped.items()}


def level_map(themes: Sequence[Theme]) -> dict[str, str]:
    """Sub-theme id → the active top-level theme it belongs to (after merges), for every sub-theme
    that has one: what the store counts by to answer at the top level."""
    redirect = {t.id: t.merged_into for t in themes if t.merged_into}

    def resolve(theme_id: str) -> str:
        seen: set[str] = set()
        while theme_id in redirect and theme_id not in seen:
            seen.add(theme_id)
            theme_id = redirect[theme_id]
        return theme_id

    top = {t.id for t in themes if t.level == "theme"}
    return {t.id: resolve(t.parent) for t in themes if t.level == "subtheme" and t.parent in top}


def at_level(themes: Sequence[Theme], level: ThemeLevel) -> list[Theme]:
    """The themes shown at ``level``: top-level themes at the top; sub-themes, and seeds (which
    segments carry), below it. A catalog fitted before themes had two levels shows all its themes."""
    if not any(t.level == "theme" and t.status == "active" for t in themes):
        return list(themes)
    return [t for t in themes if t.level == level or (level == "subtheme" and t.seeded)]


def subthemes_of(themes: Sequence[Theme]) -> dict[str, list[str]]:
    """Top-level theme id → the ids of its active sub-themes. After a top-level theme was merged
    into another, its sub-themes are the other's (as ``level_map`` counts them), so a filter on the
    merged-into theme reaches every segment its counts include."""
    active = {t.id for t in themes if t.level == "subtheme" and t.status == "active"}
    children: dict[str, list[str]] = {}
    for subtheme, top in level_map(themes).items():
        if subtheme in active:
            children.setdefault(top, []).append(subtheme)
    return children


def reporting_map(themes: Sequence[Theme], level: ThemeLevel) -> dict[str, str] | None:
    """What the store counts by at ``level``: None for sub-themes (the ids segments carry), else
    each theme id segments carry → its top-level theme. A catalog fitted before themes had two
    levels has one level only, and answers it at both."""
    if level == "subtheme":
        return None
    top = [t for t in themes if t.level == "theme" and t.status == "active"]
    if not top:
        return None
    return {**level_map(themes), **{t.id: t.id for t in top}}  # a seed is top-level and carried by segments

"""Probe for the next step of issue 17: would grouping sub-themes by how often they occur in the
same conversations, as well as by centroid similarity, give top-level themes that follow the demo's
planted subjects better? It reads a fitted demo store; nothing in the product uses it.

    python bench/themes_grouping_probe.py var/demo

For each blend ``alpha × centroid cosine + (1 − alpha) × co-occurrence Jaccard``, it groups with
average linkage into 13, 15 and 20 groups. It prints the conversation-level NMI of the most
mentioned group against the planted theme (the measure of ``bench/themes_demo.py``); the sub-themes
themselves are the ceiling.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def main() -> None:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import normalized_mutual_info_score

    from vocmine.analysis.themes.catalog import ThemeModel
    from vocmine.demo.phrases import THEMES
    from vocmine.store.sqlite.store import SQLiteStore

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path, help="the demo folder (vocmine.sqlite and themes/)")
    args = parser.parse_args()
    store = SQLiteStore(str(args.workdir / "vocmine.sqlite"))
    model = ThemeModel.load(args.workdir / "themes")
    if model is None:
        raise SystemExit("no fitted theme model in the demo folder")
    planted = [(s, t.key) for t in THEMES for group in (t.cores, t.details, t.closings) for s in group]
    rows = store.conn.execute("SELECT conversation_id, theme_id, text FROM segments").fetchall()
    keys = {text: next((k for s, k in planted if s in text), None) for _, _, text in rows}
    subs = sorted({t for _, t, _ in rows if t})
    index = {t: i for i, t in enumerate(subs)}
    together = np.zeros((len(subs), len(subs)))
    per_conversation: dict[str, set[str]] = defaultdict(set)
    for cid, theme_id, _ in rows:
        if theme_id:
            per_conversation[cid].add(theme_id)
    for themes in per_conversation.values():
        for a in themes:
            for b in themes:
                together[index[a], index[b]] += 1
    alone = np.diag(together).copy()
    jaccard = together / (alone[:, None] + alone[None, :] - together + 1e-9)
    rows_of: dict[str, list[np.ndarray]] = defaultdict(list)
    for n, theme_id in enumerate(model.active_ids):
        rows_of[theme_id].append(model.centroids[n])
    centroids = np.stack([np.mean(rows_of[t], axis=0) for t in subs])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    cosine = centroids @ centroids.T

    def nmi(groups: list[int]) -> float:
        group_of = dict(zip(subs, groups, strict=True))
        found: dict[str, Counter[int]] = defaultdict(Counter)
        truth: dict[str, Counter[str]] = defaultdict(Counter)
        for cid, theme_id, text in rows:
            if theme_id:
                found[cid][group_of[theme_id]] += 1
            if keys[text]:
                truth[cid][keys[text]] += 1
        pairs = [(found[c].most_common(1)[0][0], truth[c].most_common(1)[0][0]) for c in found if truth[c]]
        return round(float(normalized_mutual_info_score([t for _, t in pairs], [f for f, _ in pairs])), 3)

    print(f"sub-themes as their own groups ({len(subs)}): NMI {nmi(list(range(len(subs))))}")
    for alpha in (1.0, 0.7, 0.5, 0.3, 0.0):
        distance = np.clip(1 - (alpha * cosine + (1 - alpha) * jaccard), 0, None)
        np.fill_diagonal(distance, 0)
        tree = linkage(squareform(distance, checks=False), method="average")
        cells = [f"{k} groups {nmi(list(fcluster(tree, t=k, criterion='maxclust')))}" for k in (13, 15, 20)]
        print(f"alpha {alpha}: " + ", ".join(cells))


if __name__ == "__main__":
    main()

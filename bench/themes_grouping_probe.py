"""How sub-themes are best grouped into top-level themes: the alternatives tried for issue 17, on a
demo store (planted subjects) and on CFPB complaints ingested as e-mails (their products).

    python bench/themes_grouping_probe.py demo var/demo/vocmine.sqlite
    python bench/themes_grouping_probe.py cfpb CFPB_STORE   # bench/themes_corpora.py build_cfpb_store makes one

It clusters the store's distinct content texts as a fit does (``discover``), serves every content
segment its nearest sub-theme, and groups the sub-themes into 10, 15, 20 and 30 groups (and the
count the product's rule gives) in several ways:

* average linkage over centroid cosine (the grouping before issue 17's second round);
* average linkage over 0.3 × cosine + 0.7 × co-occurrence Jaccard (the first probe's best on the demo);
* Ward over the centroids alone;
* Ward over centroids and co-occurrence profiles, equal weights (what ``levels.group_subthemes``
  ships).

For each it prints the conversation-level NMI of the most-mentioned group against the truth (the
planted subject, or the CFPB product) and the share of content segments in the largest group.
Nothing in the product reads this script.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def main() -> None:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import normalized_mutual_info_score

    from vocmine.analysis.themes.discovery import DiscoveryParams, discover, nearest_centroid
    from vocmine.analysis.themes.levels import cooccurrence_profile, group_count
    from vocmine.services.themes import filler_test
    from vocmine.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["demo", "cfpb"])
    parser.add_argument("store", type=Path, help="an analysed store (SQLite)")
    args = parser.parse_args()
    conn = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT conversation_id, text, vector FROM segments WHERE vector IS NOT NULL ORDER BY rowid"
    ).fetchall()
    conversation = [r[0] for r in rows]
    texts = [r[1] for r in rows]
    vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
    filler = filler_test(Settings(store=f"sqlite:///{args.store}"))(texts, vectors)
    truth = _truth(args.kind, conn, conversation, texts)

    distinct: dict[str, int] = {}
    for i, (text, skip) in enumerate(zip(texts, filler, strict=True)):
        if not skip:
            distinct.setdefault(text, i)
    index = np.array(list(distinct.values()))
    found = discover([texts[i] for i in index], vectors[index], DiscoveryParams(sample_size=len(index)))
    centroids = np.stack([c.centroid for c in found.clusters])
    sub, _ = nearest_centroid(vectors, centroids, DiscoveryParams().min_similarity)
    sub = np.where(filler, -1, sub)
    k = len(centroids)
    together = np.zeros((k, k))
    mentioned: dict[str, set[int]] = defaultdict(set)
    for c, s in zip(conversation, sub, strict=True):
        if s >= 0:
            mentioned[c].add(int(s))
    for subs in mentioned.values():
        listed = list(subs)
        for a in listed:
            together[a, listed] += 1
    cosine = centroids @ centroids.T
    alone = np.diag(together)
    jaccard = together / np.maximum(alone[:, None] + alone[None, :] - together, 1e-9)
    rule = group_count(centroids, (10, 40))
    print(
        f"{args.kind}: {len(texts)} segments, {int(filler.sum())} filler, {k} sub-themes; the count rule gives {rule}"
    )

    def nmi(groups: np.ndarray) -> str:
        top = np.where(sub >= 0, groups[np.maximum(sub, 0)], -1)
        per: dict[str, Counter[int]] = defaultdict(Counter)
        for c, g in zip(conversation, top, strict=True):
            if g >= 0:
                per[c][int(g)] += 1
        ids = [c for c in truth if per[c]]
        score = normalized_mutual_info_score([truth[c] for c in ids], [per[c].most_common(1)[0][0] for c in ids])
        largest = Counter(top[top >= 0].tolist()).most_common(1)[0][1] / max(1, int((top >= 0).sum()))
        return f"{score:.3f} (largest {largest:.0%})"

    def average(similarity: np.ndarray) -> Callable[[int], np.ndarray]:
        distance = np.clip(1 - similarity, 0, None)
        np.fill_diagonal(distance, 0)
        tree = linkage(squareform(distance, checks=False), method="average")
        return lambda count: fcluster(tree, t=count, criterion="maxclust") - 1

    def ward(features: np.ndarray) -> Callable[[int], np.ndarray]:
        tree = linkage(features, method="ward")
        return lambda count: fcluster(tree, t=count, criterion="maxclust") - 1

    half = np.sqrt(0.5)
    shipped = np.hstack([half * centroids, half * cooccurrence_profile(together)])
    ways = {
        "average, cosine": average(cosine),
        "average, 0.3 cosine + 0.7 Jaccard": average(0.3 * cosine + 0.7 * jaccard),
        "Ward, centroids": ward(centroids.astype(np.float64)),
        "Ward, centroids + co-occurrence (shipped)": ward(shipped),
    }
    for name, grouping in ways.items():
        cells = [f"{count}: {nmi(grouping(count))}" for count in sorted({10, 15, 20, 30, rule})]
        print(f"  {name:<44}" + " | ".join(cells), flush=True)


def _truth(kind: str, conn: sqlite3.Connection, conversation: list[str], texts: list[str]) -> dict[str, str]:
    """Each conversation's true subject: the demo's most frequent planted theme, or CFPB's product."""
    if kind == "cfpb":
        return {cid: product for cid, product in conn.execute("SELECT id, product FROM conversations")}
    from vocmine.demo.phrases import THEMES

    planted = [(s.split("{")[0][:40], t.key) for t in THEMES for g in (t.cores, t.details, t.closings) for s in g]
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for c, text in zip(conversation, texts, strict=True):
        key = next((k for s, k in planted if s and s in text), None)
        if key:
            per[c][key] += 1
    return {c: counts.most_common(1)[0][0] for c, counts in per.items()}


if __name__ == "__main__":
    main()

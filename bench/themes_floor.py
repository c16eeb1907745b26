"""The minimum sub-theme size on small corpora: banking77 samples clustered with each floor.

    python bench/themes_floor.py ../shared/data [--sizes 1500,3000] [--floors 10,5] [--seed 1]

The minimum cluster size is 0.3% of the distinct texts with a floor; below 1,700 texts the floor
decides it. Each sample of banking77's training queries (intents not given) is clustered by
``discover`` with each floor and scored with NMI and ARI against the intents (unassigned queries are
one label of their own). The same samples and vectors serve every floor.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from vocmine.analysis.encoder import EmbeddingCache, Encoder
    from vocmine.analysis.themes.discovery import DiscoveryParams, discover

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--sizes", default="1500,3000")
    parser.add_argument("--floors", default="10,5")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench-embeddings.sqlite")
    args = parser.parse_args()
    with (args.data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    encoder = Encoder(cache=EmbeddingCache(args.cache))
    rng = np.random.default_rng(args.seed)
    for size in (int(s) for s in args.sizes.split(",")):
        pick = rng.choice(len(rows), size, replace=False)
        texts = [rows[i]["text"] for i in pick]
        intents = [rows[i]["category"] for i in pick]
        vectors = encoder.encode(texts)
        for floor in (int(f) for f in args.floors.split(",")):
            found = discover(texts, vectors, DiscoveryParams(sample_size=size, min_cluster_floor=floor))
            labels = [str(label) for label in found.labels]
            print(
                f"{size} queries, floor {floor}: {len(found.clusters)} sub-themes, "
                f"NMI {normalized_mutual_info_score(intents, labels):.3f}, "
                f"ARI {adjusted_rand_score(intents, labels):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Theme fitting cost at 50k segments and assignment throughput, against plain BERTopic with default
settings on the same embeddings, measured in the same run.

    python bench/topics.py --data ../shared/data [--segments 50000] [--old <commit>] [--repeat 1]
                           [--out bench/results/topics.json]

Corpus: real customer text from ../shared/data – every customer sentence (vocmine's segmenter) of
the TWCS inbound tweets, airline tweets, restaurant reviews, CFPB complaint narratives and banking77
queries, topped up with SemEval tweets to reach ``--segments`` – embedded once with the default
encoder (cached in var/bench-embeddings.sqlite, so a re-run does not re-encode). The last 5,000
vectors are held out as "new segments".

Each side fits in its own fresh process, so each pays its own numba compilation (UMAP, HDBSCAN) and
has its own peak memory:

* **vocmine** – ``vocmine.analysis.themes.discovery.discover`` then ``build_model`` (UMAP 5-d, HDBSCAN with
  the size rule, the noise pass and reassignment, c-TF-IDF keywords, centroids, hierarchy);
  assignment of new segments = ``ThemeModel.assign`` (nearest centroid; no UMAP, no HDBSCAN);
* **BERTopic defaults** – ``BERTopic().fit_transform(texts, embeddings)``; assignment =
  ``BERTopic.transform(texts, embeddings)`` (UMAP transform + HDBSCAN approximate predict). Its fit
  time leaves out ``import bertopic`` (reported apart as ``import_seconds``), while vocmine's
  includes importing UMAP and HDBSCAN, which it does on first use.

With ``--old <commit>`` an older commit's vocmine fits too (a temporary git worktree, the same bench
code: ``bench/sides.py``); ``--repeat N`` runs every side N times, the order of the sides rotated
from one round to the next, and reports each side's median with the ratios of medians and of each
round (the machine is shared, so one round alone says little).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sides import call_in_side, worktree  # noqa: E402

HELD_OUT = 5000


def corpus(data: Path, size: int) -> list[str]:
    from vocmine.analysis.real_texts import load_real_texts
    from vocmine.analysis.segmenter import split_text
    from vocmine.analysis.sentiment.data import load_semeval

    texts: list[str] = []
    seen: set[str] = set()
    for text in load_real_texts(data).values():
        for start, end in split_text(text):
            piece = text[start:end].strip()
            if piece and piece not in seen:
                seen.add(piece)
                texts.append(piece)
    for example in load_semeval(data / "semeval_twitter_sentiment"):
        if len(texts) >= size:
            break
        if example.text not in seen:
            seen.add(example.text)
            texts.append(example.text)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))[:size]
    return [texts[i] for i in order]


def embed(texts: list[str]) -> np.ndarray:
    from vocmine.analysis.encoder import EmbeddingCache, Encoder

    (ROOT / "var").mkdir(exist_ok=True)
    return Encoder(cache=EmbeddingCache(ROOT / "var" / "bench-embeddings.sqlite")).encode(texts)


def side_vocmine(texts: list[str], vectors: np.ndarray) -> dict[str, object]:
    from vocmine.analysis.themes.catalog import build_model
    from vocmine.analysis.themes.discovery import DiscoveryParams, discover

    fit_texts, fit_vectors = texts[:-HELD_OUT], vectors[:-HELD_OUT]
    started = time.perf_counter()
    found = discover(fit_texts, fit_vectors, DiscoveryParams())
    model, assigned, _ = build_model(
        found, fit_vectors, version="bench", encoder_version="bench", previous=None, texts=fit_texts
    )
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    model.assign(vectors[-HELD_OUT:])
    assign_s = time.perf_counter() - started
    return {
        "fit_seconds": round(fit_s, 1),
        "themes": len(set(model.active_ids)),
        "top_level_themes": model.stats.get("top_level_themes"),
        "unassigned_share": round(sum(a is None for a in assigned) / len(assigned), 4),
        "assign_seconds": round(assign_s, 3),
        "assign_segments_per_s": round(HELD_OUT / assign_s, 1),
    }


def side_bertopic(texts: list[str], vectors: np.ndarray) -> dict[str, object]:
    started = time.perf_counter()
    from bertopic import BERTopic

    import_s = time.perf_counter() - started
    fit_texts, fit_vectors = texts[:-HELD_OUT], vectors[:-HELD_OUT]
    started = time.perf_counter()
    model = BERTopic()
    topics, _ = model.fit_transform(fit_texts, fit_vectors)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    model.transform(texts[-HELD_OUT:], vectors[-HELD_OUT:])
    assign_s = time.perf_counter() - started
    topics = np.asarray(topics)
    return {
        "fit_seconds": round(fit_s, 1),
        "import_seconds": round(import_s, 1),
        "themes": len(set(topics.tolist()) - {-1}),
        "unassigned_share": round(float((topics == -1).mean()), 4),
        "assign_seconds": round(assign_s, 3),
        "assign_segments_per_s": round(HELD_OUT / assign_s, 1),
    }


def side(name: str, folder: str) -> dict[str, object]:
    """One side's fit in this (fresh) process, on the corpus saved in ``folder``."""
    texts = json.loads((Path(folder) / "texts.json").read_text(encoding="utf-8"))
    vectors = np.load(Path(folder) / "vectors.npy")
    result = (side_vocmine if name == "vocmine" else side_bertopic)(texts, vectors)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def rounds(sides: dict[str, tuple[str, Path]], folder: Path, repeat: int) -> dict[str, list[dict[str, object]]]:
    """Each side ``repeat`` times, each run in a fresh process; the order rotates every round."""
    names = list(sides)
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in names}
    for number in range(repeat):
        for name in names[number % len(names) :] + names[: number % len(names)]:
            kind, code_root = sides[name]
            runs[name].append(call_in_side(code_root, "topics", "side", kind, str(folder)))
            print(f"round {number + 1}: {name} fitted in {runs[name][-1]['fit_seconds']}s", flush=True)
    return runs


def summary(runs: list[dict[str, object]]) -> dict[str, object]:
    """The last run's figures, with the median fit time and every run's."""
    times = [float(r["fit_seconds"]) for r in runs]  # type: ignore[arg-type]
    return {**runs[-1], "fit_seconds": round(statistics.median(times), 1), "fit_seconds_each": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--segments", type=int, default=50_000, help="fitted segments (+5,000 held out)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "topics.json")
    parser.add_argument("--old", help="an older commit whose vocmine fits too (a temporary worktree)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every side, order rotated (medians reported)")
    args = parser.parse_args()

    texts = corpus(args.data, args.segments + HELD_OUT)
    started = time.perf_counter()
    vectors = embed(texts)
    print(f"{len(texts):,} segments embedded in {time.perf_counter() - started:.0f}s (cached after the first run)")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        (folder / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
        np.save(folder / "vectors.npy", vectors)
        sides = {"vocmine": ("vocmine", ROOT), "bertopic": ("bertopic", ROOT)}
        if args.old:
            sides["vocmine_old"] = ("vocmine", stack.enter_context(worktree(args.old)))
        runs = rounds(sides, folder, max(1, args.repeat))
    results: dict[str, object] = {
        "fitted_segments": len(texts) - HELD_OUT,
        "new_segments": HELD_OUT,
        **({"old_commit": args.old} if args.old else {}),
        **{name: summary(side_runs) for name, side_runs in runs.items()},
    }
    columns = [name for name in ("vocmine", "vocmine_old", "bertopic") if name in runs]
    print(f"\n{'':22}" + "".join(f"{name:>14}" for name in columns))
    for key in ("fit_seconds", "peak_rss_mb", "themes", "unassigned_share", "assign_segments_per_s"):
        print(f"{key:22}" + "".join(f"{results[name][key]!s:>14}" for name in columns))  # type: ignore[index]

    def ratio(side: str, other: str) -> dict[str, object]:
        each = [
            round(float(a["fit_seconds"]) / float(b["fit_seconds"]), 2)  # type: ignore[arg-type]
            for a, b in zip(runs[side], runs[other], strict=True)
        ]
        medians = float(results[side]["fit_seconds"]) / float(results[other]["fit_seconds"])  # type: ignore[index]
        return {"of_medians": round(medians, 2), "each_round": each}

    results["fit_time_ratio"] = ratio("vocmine", "bertopic")
    print(f"fit time ratio (vocmine / defaults): {results['fit_time_ratio']}")
    if args.old:
        results["fit_time_ratio_old"] = ratio("vocmine_old", "bertopic")
        results["fit_time_new_over_old"] = ratio("vocmine", "vocmine_old")
        print(f"fit time ratio (old vocmine / defaults): {results['fit_time_ratio_old']}")
        print(f"fit time ratio (new / old vocmine): {results['fit_time_new_over_old']}")
    ours, plain = results["vocmine"], results["bertopic"]
    results["assign_speedup"] = round(
        float(ours["assign_segments_per_s"]) / float(plain["assign_segments_per_s"]),  # type: ignore[index]
        1,
    )
    print(f"assignment speed-up: {results['assign_speedup']}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

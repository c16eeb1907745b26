"""Analysis throughput against the raw encoder, measured in the same run.

    python bench/throughput.py --data ../shared/data [--backend torch|onnx|both] [--out bench/results/throughput.json]
    python bench/throughput.py --data ../shared/data --old COMMIT [--repeats 4] [--out ...]

Corpus: the TWCS sample (real customer ↔ brand threads) ingested into a fresh embedded store with
vocmine's own reader. Its customer segments are what both sides process:

* **encoder** – sentence-transformers ``encode`` of every distinct segment text (all-MiniLM-L6-v2,
  batch 64, no cache): the cost any analysis has to pay to embed the segments;
* **analysis** – ``analyze_store`` over the same store with an empty embedding cache: segmentation,
  the shared pass (embedding + sentiment layers), journey head, signal heads and rules, conversation
  aggregates, and writing results and vectors to the store;
* **analysis without signal heads** – the same with ``signal_heads="none"`` (rules only), so that
  what the learned signal heads cost is a ratio within the run.

Each side runs in its own fresh process (so each pays its own model load, which is timed apart and
left out, and has its own peak memory), in the order encoder, analysis, encoder, analysis; the
figures are the medians. Overhead = analysis time / encoder time − 1, in wall time and in the
process's CPU time (less moved by other load on a shared machine); each A-B pair is listed too.

``--backend`` picks what runs the encoder (``VOCMINE_ENCODER_BACKEND``): ``both`` runs the encoder
and the analysis on torch and on ONNX Runtime alternately in the same run (encoder torch, encoder
onnx, analysis torch, analysis onnx, repeated; no rules-only phase) and reports ONNX / torch
throughput ratios, per pair and of the medians, in wall and CPU time. The ONNX graph is exported
before the first phase (its one-off export is not timed; loading it is, apart, as for torch).

``--old COMMIT`` instead runs the full analysis as a user gets it by default (every setting at its
default) with this checkout's code and with COMMIT's (a temporary worktree, its own shipped models:
``bench/sides.py``), alternately, and reports new / old throughput per pair and of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_store(data: Path, folder: Path) -> Path:
    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    path = folder / "store.sqlite"
    settings = Settings(store=f"sqlite:///{path}", embedding_cache=str(folder / "unused.sqlite"))
    store = SQLiteStore(str(path))
    ingest_paths([str(data / "twcs_sample" / "twcs_first5000.csv")], settings, store, report_dir=folder / "reports")
    store.close()
    return path


def segment_texts(store_path: Path) -> list[str]:
    from vocmine.analysis.segmenter import segment_conversation
    from vocmine.store.sqlite.store import SQLiteStore

    store = SQLiteStore(str(store_path))
    return [s.text for c in store.iter_conversations() for s in segment_conversation(c)]


def phase_encoder(store_path: Path, backend: str = "torch") -> dict[str, float]:
    from vocmine.analysis.encoder import Encoder

    texts = list(dict.fromkeys(segment_texts(store_path)))
    encoder = Encoder(backend=backend)
    started = time.perf_counter()
    encoder.encode(texts[:8])  # load the model (timed apart)
    loaded, cpu = time.perf_counter(), time.process_time()
    encoder.encode(texts)
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "seconds": done - loaded,
        "cpu_seconds": time.process_time() - cpu,
        "texts": len(texts),
    }


def phase_analysis(
    store_path: Path, cache: Path, signal_heads: str = "shipped", backend: str = "auto"
) -> dict[str, float]:
    from vocmine.services.analysis import analyze_store, build_analyzer
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    settings = Settings(
        store=f"sqlite:///{store_path}",
        embedding_cache=str(cache),
        signal_heads=signal_heads,
        encoder_backend=backend,  # type: ignore[arg-type]  # a checked choice of BACKENDS (an older side ignores it)
    )
    analyzer = build_analyzer(settings)
    started = time.perf_counter()
    analyzer.sentiment.analyse(["warm up"])  # type: ignore[attr-defined]  # load the models (timed apart)
    loaded, cpu = time.perf_counter(), time.process_time()
    report = analyze_store(SQLiteStore(str(store_path)), analyzer, batch_size=settings.analysis_batch, redo=True)
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "seconds": done - loaded,
        "cpu_seconds": time.process_time() - cpu,
        "texts": report.encoded,
        "segments": report.segments,
        "conversations": report.conversations,
        "seconds_by_step": report.seconds_by_step,  # type: ignore[dict-item]
    }


PHASES = ("encoder", "analysis", "rules_only")
BACKENDS = ("torch", "onnx")


def run_phase(name: str, store_path: Path, folder: Path, run: int, backend: str = "torch") -> dict[str, float]:
    """Run one phase in a fresh interpreter; returns its figures and its peak memory."""
    cache = folder / f"cache-{name}-{backend}-{run}.sqlite"
    command = [sys.executable, __file__, "--phase", name, "--store", str(store_path), "--cache", str(cache)]
    output = subprocess.run([*command, "--backend", backend], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def export_onnx() -> None:
    """Export (or find in the cache) the ONNX graph both the encoder and the analysis load."""
    from vocmine.analysis.encoder import DEFAULT_MODEL, encoder_version, model_location
    from vocmine.analysis.onnx_trunk import OnnxTrunk

    OnnxTrunk(model_location(DEFAULT_MODEL), encoder_version(DEFAULT_MODEL)).ensure_exported()


def compare_with_old(args: argparse.Namespace) -> None:
    """The full analysis with this checkout's defaults and with ``--old``'s code (and its shipped models),
    alternately in the same run, each in a fresh process; ratios of throughput per pair and of medians."""
    sys.path.insert(1, str(ROOT / "bench"))
    from sides import call_in_side, worktree

    with tempfile.TemporaryDirectory() as tmp, worktree(args.old) as old_root:
        folder = Path(tmp)
        store_path = build_store(args.data, folder)
        runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for run in range(args.repeats):
            for side in ("old", "new") if run % 2 == 0 else ("new", "old"):
                cache = str(folder / f"cache-{side}-{run}.sqlite")
                code = old_root if side == "old" else ROOT
                result = call_in_side(code, "throughput", "phase_analysis", str(store_path), cache, "shipped", "auto")
                runs[side].append(result)
                print(f"run {run + 1} {side}: {result['seconds']:.1f} s, {result['cpu_seconds']:.1f} CPU s", flush=True)
    segments = runs["new"][0]["segments"]
    ratio = {
        kind: {
            "of_medians": round(
                statistics.median(r[kind] for r in runs["old"]) / statistics.median(r[kind] for r in runs["new"]), 3
            ),
            "each_pair": [round(o[kind] / n[kind], 3) for o, n in zip(runs["old"], runs["new"], strict=True)],
        }
        for kind in ("seconds", "cpu_seconds")
    }
    results = {
        "corpus": "TWCS sample (first 5,000 rows), customer segments",
        "old_commit": args.old,
        "segments": segments,
        "old_segments_per_s": round(segments / statistics.median(r["seconds"] for r in runs["old"]), 1),
        "new_segments_per_s": round(segments / statistics.median(r["seconds"] for r in runs["new"]), 1),
        "new_over_old_throughput": {"wall": ratio["seconds"], "cpu": ratio["cpu_seconds"]},
        "load_average_at_end": os.getloadavg(),
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


def compare_backends(args: argparse.Namespace) -> None:
    """Torch and ONNX Runtime, alternately in the same run: encoder alone and full analysis."""
    export_onnx()
    names = [(phase, backend) for phase in ("encoder", "analysis") for backend in BACKENDS]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_path = build_store(args.data, folder)
        runs: dict[str, list[dict[str, float]]] = {f"{p}-{b}": [] for p, b in names}
        for run in range(args.repeats):
            for phase, backend in names:
                runs[f"{phase}-{backend}"].append(run_phase(phase, store_path, folder, run, backend))
                print(f"run {run + 1} {phase} {backend}: {runs[f'{phase}-{backend}'][-1]}", flush=True)
    segments = runs["analysis-torch"][0]["segments"]
    results: dict[str, object] = {
        "corpus": "TWCS sample (first 5,000 rows), customer segments",
        "conversations": runs["analysis-torch"][0]["conversations"],
        "segments": segments,
        "distinct_segment_texts": runs["encoder-torch"][0]["texts"],
        "threads": os.cpu_count(),
    }
    print(f"\n{'':22} {'seconds':>8} {'CPU s':>7} {'segments/s':>11} {'peak RSS MB':>12}")
    for key, rs in runs.items():
        wall = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        results[key] = {
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "segments_per_s": round(segments / wall, 1),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rs)),
            "load_s": round(statistics.median(r["load_s"] for r in rs), 1),
        }
        row = results[key]
        print(
            f"{key:22} {wall:>8.1f} {cpu:>7.1f} {row['segments_per_s']:>11} {row['peak_rss_mb']:>12}"  # type: ignore[index]
        )
    for phase in ("encoder", "analysis"):
        torch_runs, onnx_runs = runs[f"{phase}-torch"], runs[f"{phase}-onnx"]
        per_pair = [t["seconds"] / o["seconds"] for t, o in zip(torch_runs, onnx_runs, strict=True)]
        cpu_pair = [t["cpu_seconds"] / o["cpu_seconds"] for t, o in zip(torch_runs, onnx_runs, strict=True)]
        speedup = {
            "wall_median": round(
                statistics.median(r["seconds"] for r in torch_runs)
                / statistics.median(r["seconds"] for r in onnx_runs),
                3,
            ),
            "wall_per_pair": [round(p, 3) for p in per_pair],
            "cpu_median": round(
                statistics.median(r["cpu_seconds"] for r in torch_runs)
                / statistics.median(r["cpu_seconds"] for r in onnx_runs),
                3,
            ),
            "cpu_per_pair": [round(p, 3) for p in cpu_pair],
        }
        results[f"{phase}_onnx_speedup"] = speedup
        print(
            f"{phase}: ONNX / torch throughput {speedup['wall_median']:.2f}x wall (pairs "
            + ", ".join(f"{p:.2f}x" for p in per_pair)
            + f"), {speedup['cpu_median']:.2f}x CPU time (pairs "
            + ", ".join(f"{p:.2f}x" for p in cpu_pair)
            + ")"
        )
    results["runs"] = runs
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "throughput.json")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="torch", help="what runs the encoder")
    parser.add_argument("--old", help="compare the full analysis with this commit's, in the same run")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "encoder":
            result = phase_encoder(args.store, args.backend)
        else:
            heads = "none" if args.phase == "rules_only" else "shipped"
            result = phase_analysis(args.store, args.cache, heads, args.backend)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    if args.old:
        compare_with_old(args)
        return
    if args.backend == "both":
        compare_backends(args)
        return
    if args.backend == "onnx":
        export_onnx()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_path = build_store(args.data, folder)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in PHASES}
        for run in range(args.repeats):
            for name in PHASES:
                runs[name].append(run_phase(name, store_path, folder, run, args.backend))
                print(f"run {run + 1} {name}: {runs[name][-1]}", flush=True)

    encoder_s = statistics.median(r["seconds"] for r in runs["encoder"])
    analysis_s = statistics.median(r["seconds"] for r in runs["analysis"])
    encoder_cpu = statistics.median(r["cpu_seconds"] for r in runs["encoder"])
    analysis_cpu = statistics.median(r["cpu_seconds"] for r in runs["analysis"])
    pairs = [a["seconds"] / e["seconds"] - 1 for e, a in zip(runs["encoder"], runs["analysis"], strict=True)]
    rules_only_s = statistics.median(r["seconds"] for r in runs["rules_only"])
    heads_pairs = [a["seconds"] / r["seconds"] - 1 for r, a in zip(runs["rules_only"], runs["analysis"], strict=True)]
    segments = runs["analysis"][0]["segments"]
    results = {
        "corpus": "TWCS sample (first 5,000 rows), customer segments",
        "backend": args.backend,
        "conversations": runs["analysis"][0]["conversations"],
        "segments": segments,
        "distinct_segment_texts": runs["encoder"][0]["texts"],
        "encoder_seconds": round(encoder_s, 2),
        "analysis_seconds": round(analysis_s, 2),
        "encoder_segments_per_s": round(segments / encoder_s, 1),
        "analysis_segments_per_s": round(segments / analysis_s, 1),
        "overhead": round(analysis_s / encoder_s - 1, 3),
        "overhead_per_pair": [round(p, 3) for p in pairs],
        "rules_only_seconds": round(rules_only_s, 2),
        "signal_heads_cost": round(analysis_s / rules_only_s - 1, 3),
        "signal_heads_cost_per_pair": [round(p, 3) for p in heads_pairs],
        # CPU time of the process (both cores): other tenants' load on this shared machine moves
        # wall time by ±7% between identical runs, CPU time much less.
        "cpu_overhead": round(analysis_cpu / encoder_cpu - 1, 3),
        "encoder_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["encoder"])),
        "analysis_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["analysis"])),
        "model_load_s": {name: round(statistics.median(r["load_s"] for r in rs), 1) for name, rs in runs.items()},
        "runs": runs,
    }
    print(f"\n{'':24} {'seconds':>8} {'segments/s':>11} {'peak RSS MB':>12}")
    print(
        f"{'encoder alone':24} {encoder_s:>8.1f} {results['encoder_segments_per_s']:>11} "
        f"{results['encoder_peak_rss_mb']:>12}"
    )
    print(
        f"{'full analysis':24} {analysis_s:>8.1f} {results['analysis_segments_per_s']:>11} "
        f"{results['analysis_peak_rss_mb']:>12}"
    )
    print(
        f"overhead of the analysis beyond the encoder: {results['overhead']:+.1%} wall (medians; pairs "
        + ", ".join(f"{p:+.1%}" for p in pairs)
        + f"), {results['cpu_overhead']:+.1%} CPU time"
    )
    print(
        f"what the signal heads cost (analysis / analysis without them): {results['signal_heads_cost']:+.1%} "
        "(pairs " + ", ".join(f"{p:+.1%}" for p in heads_pairs) + ")"
    )
    print(
        "analysis time by step (last run): "
        + ", ".join(
            f"{step} {value:.1f}s"
            for step, value in runs["analysis"][-1]["seconds_by_step"].items()  # type: ignore[union-attr]
        )
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

"""Theme discovery as ``vocmine themes discover`` does it (content filter, clustering, two levels,
nearest-centroid assignment), scored against real labels, with this checkout's code and an older
commit's in the same run (each side in its own process).

    python bench/themes_corpora.py ../shared/data --old <commit> [--out bench/results/themes_corpora.json]

* banking77 train (10,003 single queries, 77 intents): NMI and ARI of the sub-themes against the
  intents (a line left without a theme is its own "unassigned" label).
* CFPB complaint narratives (the rows with a narrative; products and issues): NMI of the top-level
  themes against Product and of the sub-themes against Issue. An older side without two levels is
  scored with its only level for both.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpora(data: Path) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        bank = list(csv.DictReader(handle))
    with (data / "cfpb_complaints_sample" / "complaints_sample.csv").open(encoding="utf-8", newline="") as handle:
        cfpb = [r for r in csv.DictReader(handle) if r["Consumer complaint narrative"].strip()]
    return {
        "banking77": ([r["text"] for r in bank], {"intent": [r["category"] for r in bank]}),
        "cfpb": (
            [r["Consumer complaint narrative"] for r in cfpb],
            {"product": [r["Product"] for r in cfpb], "issue": [r["Issue"] for r in cfpb]},
        ),
    }


def side(texts_path: str, workdir: str) -> dict[str, list[str | None]]:
    """Runs in the side's process: each line's sub-theme and top-level theme."""
    from vocmine.services.themes import discover_file
    from vocmine.settings import Settings

    target = Path(workdir) / "out.jsonl"
    settings = Settings(store=f"sqlite:///{workdir}/unused.sqlite")
    summary = discover_file(Path(texts_path), target, settings, text_field="text")
    parent = {t["id"]: t.get("parent") for t in summary["themes"]}  # type: ignore[union-attr]
    two_levels = any(str(p or "").startswith("g") for p in parent.values())
    subs, tops = [], []
    for line in target.read_text(encoding="utf-8").splitlines():
        theme = json.loads(line).get("theme_id")
        subs.append(theme)
        tops.append((parent.get(theme) or theme) if two_levels and theme else theme)
    return {"sub": subs, "top": tops}


def run_side(code_root: Path, texts: list[str]) -> dict[str, list[str | None]]:
    with tempfile.TemporaryDirectory(prefix="themes-corpus-") as workdir:
        source = Path(workdir) / "texts.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code_root)}
        script = (
            f"import json, sys; sys.path.insert(0, {str(code_root)!r}); sys.path.insert(1, {str(ROOT / 'bench')!r});"
            f"from themes_corpora import side; print(json.dumps(side({str(source)!r}, {workdir!r})))"
        )
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the side at {code_root} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def scores(found: dict[str, list[str | None]], gold: dict[str, list[str]]) -> dict[str, object]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    def as_labels(values: list[str | None]) -> list[str]:
        return [v or "unassigned" for v in values]

    sub, top = as_labels(found["sub"]), as_labels(found["top"])
    result: dict[str, object] = {
        "subthemes": len(set(found["sub"]) - {None}),
        "top_level": len(set(found["top"]) - {None}),
        "unassigned_share": round(sum(v is None for v in found["sub"]) / len(sub), 4),
    }
    if "intent" in gold:
        result["sub_nmi_intent"] = round(float(normalized_mutual_info_score(gold["intent"], sub)), 4)
        result["sub_ari_intent"] = round(float(adjusted_rand_score(gold["intent"], sub)), 4)
    if "product" in gold:
        result["top_nmi_product"] = round(float(normalized_mutual_info_score(gold["product"], top)), 4)
        result["sub_nmi_issue"] = round(float(normalized_mutual_info_score(gold["issue"], sub)), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--old", help="a commit to compare with (checked out in a temporary worktree)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "themes_corpora.json")
    args = parser.parse_args()
    results: dict[str, object] = {}
    roots = {"new": ROOT}
    with tempfile.TemporaryDirectory(prefix="themes-old-") as folder:
        if args.old:
            roots["old"] = Path(folder) / "old"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(roots["old"]), args.old], check=True
            )
            results["old_commit"] = args.old
        try:
            for name, (texts, gold) in corpora(args.data).items():
                results[name] = {label: scores(run_side(root, texts), gold) for label, root in roots.items()}
                print(name, json.dumps(results[name]), flush=True)
        finally:
            if args.old:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(roots["old"])], check=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

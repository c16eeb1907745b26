"""Theme discovery as ``vocmine themes discover`` does it (content filter, clustering, two levels,
nearest-centroid assignment), scored against real labels, with this checkout's code and an older
commit's in the same run (each side in its own process).

    python bench/themes_corpora.py ../shared/data --old <commit> [--out bench/results/themes_corpora.json]

* banking77 train (10,003 single queries, 77 intents): NMI and ARI of the sub-themes against the
  intents (a line left without a theme is its own "unassigned" label).
* CFPB complaint narratives (the rows with a narrative; products and issues), twice:
  - each narrative clustered whole, as ``themes discover`` reads a file: NMI of the top-level themes
    against Product and of the sub-themes against Issue;
  - as the product reads e-mails: the narratives ingested as conversations and analysed into
    segments (once, with this checkout's code), each side fitting themes on its own copy of that store;
    a conversation's theme is the one it mentions most, at each level.
  An older side without two levels is scored with its only level for both.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sides import call_in_side, worktree  # noqa: E402


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


def build_cfpb_store(data: Path, path: Path) -> None:
    """The narratives as e-mail conversations (product and issue kept for scoring only), ingested
    and analysed like any export."""
    from vocmine.services.analysis import analyze_store, build_analyzer
    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    rows = [
        r for r in csv.DictReader((data / "cfpb_complaints_sample" / "complaints_sample.csv").open(encoding="utf-8"))
    ]
    source = path.with_suffix(".jsonl")
    with source.open("w", encoding="utf-8") as out:
        for r in rows:
            if r["Consumer complaint narrative"].strip():
                record = {
                    "id": f"cfpb-{r['Complaint ID']}",
                    "channel": "email",
                    "started_at": datetime.strptime(r["Date received"], "%Y/%m/%d").strftime("%Y-%m-%dT00:00:00Z"),
                    "product": r["Product"],
                    "metadata": {"issue": r["Issue"]},
                    "turns": [{"role": "customer", "text": r["Consumer complaint narrative"]}],
                }
                out.write(json.dumps(record) + "\n")
    settings = Settings(store=f"sqlite:///{path}", report_dir=str(path.parent / "reports"))
    store = SQLiteStore(str(path))
    ingest_paths([str(source)], settings, store, format_name="chat-json")
    analyze_store(store, build_analyzer(settings, cache=False))
    store.close()


def store_side(store_path: str, workdir: str) -> dict[str, dict[str, str]]:
    """Runs in the side's process: fit themes on a copy; each conversation's most mentioned theme."""
    import sqlite3
    from collections import Counter

    from vocmine.services.themes import fit_store_themes
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    copy = Path(workdir) / "store.sqlite"
    sqlite3.connect(store_path).execute(f"VACUUM INTO '{copy}'")
    store = SQLiteStore(str(copy))
    fit_store_themes(store, Settings(store=f"sqlite:///{copy}", themes_dir=str(Path(workdir) / "themes")))
    try:
        from vocmine.services.insights import theme_map

        top = theme_map(store, "theme")
    except ImportError:
        top = None
    counts: dict[str, dict[str, Counter[str]]] = {"sub": {}, "top": {}}
    for cid, theme_id in store.conn.execute(
        "SELECT conversation_id, theme_id FROM segments WHERE theme_id IS NOT NULL"
    ):
        counts["sub"].setdefault(cid, Counter())[theme_id] += 1
        reported = top.get(theme_id) if top is not None else theme_id
        if reported:
            counts["top"].setdefault(cid, Counter())[reported] += 1
    return {level: {cid: c.most_common(1)[0][0] for cid, c in found.items()} for level, found in counts.items()}


def store_scores(found: dict[str, dict[str, str]], store_path: str) -> dict[str, object]:
    import sqlite3

    from sklearn.metrics import normalized_mutual_info_score

    gold = {
        cid: (product, json.loads(doc).get("metadata", {}).get("issue"))
        for cid, product, doc in sqlite3.connect(store_path).execute("SELECT id, product, doc FROM conversations")
    }
    ids = sorted(gold)
    top = [found["top"].get(c, "none") for c in ids]
    sub = [found["sub"].get(c, "none") for c in ids]
    return {
        "conversations": len(ids),
        "with_a_theme": sum(c in found["sub"] for c in ids),
        "top_level": len(set(found["top"].values())),
        "subthemes": len(set(found["sub"].values())),
        "top_nmi_product": round(float(normalized_mutual_info_score([gold[c][0] for c in ids], top)), 4),
        "sub_nmi_issue": round(float(normalized_mutual_info_score([gold[c][1] for c in ids], sub)), 4),
    }


def run_store_side(code_root: Path, store_path: Path) -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="themes-store-") as workdir:
        return dict(call_in_side(code_root, "themes_corpora", "store_side", str(store_path), workdir))


def run_side(code_root: Path, texts: list[str]) -> dict[str, list[str | None]]:
    with tempfile.TemporaryDirectory(prefix="themes-corpus-") as workdir:
        source = Path(workdir) / "texts.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        return dict(call_in_side(code_root, "themes_corpora", "side", str(source), workdir))


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
    parser.add_argument("--only-store", action="store_true", help="only the CFPB-as-conversations measure")
    parser.add_argument(
        "--cfpb-store", type=Path, help="an analysed CFPB store built by an earlier run (build_cfpb_store), reused"
    )
    args = parser.parse_args()
    results: dict[str, object] = {}
    with contextlib.ExitStack() as stack:
        roots = {"new": ROOT}
        if args.old:
            roots["old"] = stack.enter_context(worktree(args.old))
            results["old_commit"] = args.old
        if not args.only_store:
            for name, (texts, gold) in corpora(args.data).items():
                results[name] = {label: scores(run_side(root, texts), gold) for label, root in roots.items()}
                print(name, json.dumps(results[name]), flush=True)
        if args.cfpb_store:
            store_path = args.cfpb_store.resolve()
        else:
            store_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="cfpb-store-"))
            store_path = Path(store_folder) / "cfpb.sqlite"
            sys.path.insert(0, str(ROOT))
            build_cfpb_store(args.data, store_path)
        results["cfpb_as_conversations"] = {
            label: store_scores(run_store_side(root, store_path), str(store_path)) for label, root in roots.items()
        }
        print("cfpb_as_conversations", json.dumps(results["cfpb_as_conversations"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""What an analyst gets from ``vocmine themes fit`` on the demo store, with this checkout's code and
an older commit's, in the same run (each in its own process, on its own copy of the store).

    python bench/themes_demo.py var/demo/vocmine.sqlite --old <commit> [--out bench/results/themes_demo.json]

Measured on each side (no curation first):
* active themes; the share of segments left out as filler and unassigned;
* planted-theme recovery: each segment whose text contains a sentence of a planted theme
  (``vocmine.demo.phrases``) carries that theme; a conversation's planted theme is its most frequent
  one and its found theme the one it mentions most; NMI between the two over conversations with both;
* the planted eSIM theme: its rank among emerging themes (last 14 days against the 56 before), its
  rate ratio and q, and its label;
* key drivers of NPS: the share of themes with a number rather than "not enough data";
* labels made only of filler words (the word rule of ``vocmine.analysis.content``);
* curation: rename the theme holding most eSIM sentences, merge into it every other theme where
  eSIM sentences are at least a fifth of the segments, re-fit: is it still active under its name,
  do the merged ids stay merged, and does it still hold the eSIM sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sides import call_in_side, worktree  # noqa: E402


def measure(store_path: str, workdir: str) -> dict[str, object]:
    """Runs inside the side's process, with that side's ``vocmine`` on the path."""
    import sqlite3

    from sklearn.metrics import normalized_mutual_info_score

    from vocmine.demo.phrases import THEMES
    from vocmine.services.insights import WindowSpec, drivers, emerging
    from vocmine.services.themes import fit_store_themes
    from vocmine.settings import Settings
    from vocmine.store.query import ConversationFilter
    from vocmine.store.sqlite.store import SQLiteStore

    copy = Path(workdir) / "store.sqlite"
    sqlite3.connect(store_path).execute(f"VACUUM INTO '{copy}'")
    settings = Settings(store=f"sqlite:///{copy}", themes_dir=str(Path(workdir) / "themes"))
    store = SQLiteStore(str(copy))
    report = fit_store_themes(store, settings)
    planted_sentences = [(s, t.key) for t in THEMES for group in (t.cores, t.details, t.closings) for s in group]

    def planted_of(text: str) -> str | None:
        return next((key for sentence, key in planted_sentences if sentence in text), None)

    rows = store.conn.execute("SELECT conversation_id, theme_id, text FROM segments").fetchall()
    try:  # two levels (this code); an older side has one
        from vocmine.services.insights import theme_map

        top_map = theme_map(store, "theme")
    except ImportError:
        top_map = None
    result: dict[str, object] = {
        "segments": len(rows),
        "unassigned_share": round(sum(t is None for _, t, _ in rows) / len(rows), 4),
        "filler_share": getattr(report, "filler_share", None),
        "fit_seconds": report.seconds,
    }
    themes = {t.id: t for t in store.list_themes()}
    levels = [("", None)] + ([("top_", top_map)] if top_map is not None else [])
    for prefix, mapping in levels:
        reported = [(cid, (mapping.get(t) if mapping is not None else t) if t else None, text) for cid, t, text in rows]
        by_conversation: dict[str, tuple[Counter[str], Counter[str]]] = {}
        for cid, theme_id, text in reported:
            found, planted = by_conversation.setdefault(cid, (Counter(), Counter()))
            if theme_id:
                found[theme_id] += 1
            key = planted_of(text)
            if key:
                planted[key] += 1
        pairs = [(f.most_common(1)[0][0], p.most_common(1)[0][0]) for f, p in by_conversation.values() if f and p]
        esim = Counter(t for _, t, text in reported if t and planted_of(text) == "esim_activation")
        esim_theme = esim.most_common(1)[0][0] if esim else None
        options = {"level": "theme" if mapping is not None else "subtheme"} if top_map is not None else {}
        _, found_emerging = emerging(
            store, ConversationFilter(), WindowSpec(recent_days=14, baseline_days=56), **options
        )
        rising = [e for e in found_emerging if e.emerging]
        esim_row = next((e for e in found_emerging if e.theme_id == esim_theme), None)
        nps = drivers(store, "nps", **options)
        result.update(
            {
                f"{prefix}themes": len({t for _, t, _ in reported if t}),
                f"{prefix}nmi_conversation_planted": round(
                    float(normalized_mutual_info_score([p for _, p in pairs], [f for f, _ in pairs])), 4
                ),
                f"{prefix}esim_theme": esim_theme,
                f"{prefix}esim_label": themes[esim_theme].display_name if esim_theme else None,
                f"{prefix}esim_share_of_its_sentences": round(esim[esim_theme] / sum(esim.values()), 4)
                if esim
                else None,
                f"{prefix}esim_emerging_rank": next(
                    (n + 1 for n, e in enumerate(rising) if e.theme_id == esim_theme), None
                ),
                f"{prefix}emerging_themes": len(rising),
                f"{prefix}esim_rate_ratio": round(esim_row.rate_ratio, 3) if esim_row else None,
                f"{prefix}esim_q": esim_row.q_value if esim_row else None,
                f"{prefix}drivers_with_number_share": round(
                    sum(d.status == "ok" for d in nps.drivers) / max(1, len(nps.drivers)), 4
                ),
            }
        )
    esim = Counter(t for _, t, text in rows if t and planted_of(text) == "esim_activation")
    esim_theme = esim.most_common(1)[0][0] if esim else None
    result["labels"] = sorted(t.display_name for t in themes.values() if t.status == "active")
    result["stability"] = _stability(store_path, Path(workdir))
    # Curation, then a re-fit.
    if esim_theme:
        store.rename_theme(esim_theme, "eSIM activation failures", actor="bench")
        totals = Counter(theme_id for _, theme_id, _ in rows if theme_id)
        fragments = [t for t, n in esim.items() if t != esim_theme and n >= 0.2 * totals[t]]
        if fragments:
            store.merge_themes(fragments, esim_theme, actor="bench")
        fit_store_themes(store, settings)
        after = {t.id: t for t in store.list_themes()}
        rows = store.conn.execute("SELECT theme_id, text FROM segments").fetchall()
        kept = sum(1 for t, text in rows if t == esim_theme and planted_of(text) == "esim_activation")
        result["curation"] = {
            "merged": fragments,
            "renamed_theme_status": after[esim_theme].status,
            "renamed_theme_name": after[esim_theme].display_name,
            "merged_still_merged": all(after[f].status == "merged" for f in fragments),
            "esim_sentences_in_it_after_refit": round(kept / max(1, sum(esim.values())), 4),
        }
    return result


def _stability(store_path: str, workdir: Path) -> dict[str, object]:
    """Fit on the conversations before the last tenth (by start), then re-fit once that tenth has
    arrived: the share of each level's ids that the second fit keeps."""
    import sqlite3
    from datetime import UTC, datetime

    from vocmine.services.themes import fit_store_themes
    from vocmine.settings import Settings
    from vocmine.store.query import ConversationFilter
    from vocmine.store.sqlite.store import SQLiteStore

    copy = workdir / "stability.sqlite"
    sqlite3.connect(store_path).execute(f"VACUUM INTO '{copy}'")
    store = SQLiteStore(str(copy))
    starts = [
        r[0] for r in store.conn.execute("SELECT started_at FROM conversations WHERE started_at IS NOT NULL ORDER BY 1")
    ]
    cut = datetime.fromtimestamp(starts[int(0.9 * len(starts))], tz=UTC)
    settings = Settings(store=f"sqlite:///{copy}", themes_dir=str(workdir / "stability-themes"))
    fit_store_themes(store, settings, filter=ConversationFilter(until=cut))

    def active(level: str) -> set[str]:
        return {t.id for t in store.list_themes() if t.status == "active" and getattr(t, "level", "subtheme") == level}

    before = {level: active(level) for level in ("theme", "subtheme")}
    fit_store_themes(store, settings)
    after = {level: active(level) for level in ("theme", "subtheme")}
    return {
        f"{level}_ids_kept": round(len(before[level] & after[level]) / len(before[level]), 4) if before[level] else None
        for level in ("theme", "subtheme")
    } | {"conversations_added_share": 0.1}


def _filler_labels(labels: list[str]) -> list[str]:
    """The labels made only of filler words (this checkout's word rule, the same for both sides).
    The learned head is not used: it reads segments, and a two-word label looks like a short one."""
    sys.path.insert(0, str(ROOT))
    from vocmine.analysis.content.rules import is_rule_filler

    return [label for label in labels if is_rule_filler(label)]


def run_side(code_root: Path, store: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="themes-bench-") as workdir:
        return dict(call_in_side(code_root, "themes_demo", "measure", str(store), workdir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a demo store (vocmine demo --workdir DIR makes DIR/vocmine.sqlite)")
    parser.add_argument("--old", help="a commit to compare with (checked out in a temporary worktree)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "themes_demo.json")
    args = parser.parse_args()
    results = {"new": run_side(ROOT, args.store.resolve())}
    if args.old:
        with worktree(args.old) as old:
            results["old"] = run_side(old, args.store.resolve())
        results["old_commit"] = args.old
    for found in [v for v in results.values() if isinstance(v, dict)]:
        found["filler_labels"] = _filler_labels(found["labels"])
    for key in results["new"]:
        if key not in ("curation", "stability", "labels"):
            print(f"{key:32} {results.get('old', {}).get(key, '')!s:>28} {results['new'][key]!s:>28}")
    for side in ("old", "new"):
        if side in results:
            print(side, "curation:", json.dumps(results[side].get("curation")))
            print(side, "stability:", json.dumps(results[side].get("stability")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

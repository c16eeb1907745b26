"""Old ingestion against new: the same inputs ingested by an older commit's code and by this checkout
(with its default workers, and with one), each into its own SQLite store, then every stored
conversation, turn key, rejection and report count compared.

    python bench/ingest_equivalence.py [--old d14594d] [--shared ../shared/data] [--conversations 3200] [--mbox-mb 10]

Ignored because they differ from run to run by design: ingest and update time stamps, run ids and
report paths. Everything else must be identical; the script lists each difference and exits 1 if any.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sides import call_in_side, worktree  # noqa: E402

SETTINGS = {"company_domains": ["northwind-telecom.com"], "brand_accounts": ["NorthwindHelp"]}


def ingest_into(corpus: str, store_path: str, report_dir: str, workers: str) -> dict[str, Any]:
    """Run in a side: ingest ``corpus`` into a fresh store; the report's comparable parts."""
    from vocmine.services.ingestion import ingest_paths
    from vocmine.settings import Settings
    from vocmine.store.sqlite.store import SQLiteStore

    options: dict[str, Any] = dict(SETTINGS)
    if "ingest_workers" in Settings.model_fields:  # the old side has no such setting
        options["ingest_workers"] = int(workers)
    store = SQLiteStore(store_path)
    report = ingest_paths([corpus], Settings(**options), store, report_dir=Path(report_dir))
    store.close()
    summary = report.to_dict()
    rejections = [json.loads(line) for line in Path(report.rejections_path or "").read_text().splitlines()]
    return {
        "records": summary["records"],
        "conversations": summary["conversations"],
        "files_read": summary["files_read"],
        "pii_redacted": summary["pii_redacted"],
        "rejections": rejections,
    }


def stored(store_path: Path) -> dict[str, Any]:
    """Every stored conversation (its columns but the time stamps) and turn key."""
    db = sqlite3.connect(store_path)
    conversations = {}
    cursor = db.execute("SELECT * FROM conversations")
    names = [column[0] for column in cursor.description]
    for row in cursor:
        values = {k: v for k, v in zip(names, row, strict=True) if k not in ("ingested_at", "updated_at")}
        conversations[values["id"]] = values
    keys = dict(db.execute("SELECT key, conversation_id FROM turn_keys").fetchall())
    # The full-text rows by conversation id (rowids are assigned in write order, which is the same too).
    fts = []
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE name GLOB 'conversation_fts_[0-9]*'"):
        if "_" not in name.removeprefix("conversation_fts_"):
            fts += db.execute(f"SELECT rowid, customer_text, subject, words FROM {name}").fetchall()
    fts.sort()
    db.close()
    return {"conversations": conversations, "turn_keys": keys, "fts": fts}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found = []
    for key in ("records", "conversations", "files_read", "pii_redacted", "rejections"):
        if old["report"][key] != new["report"][key]:
            found.append(f"report {key}: old {old['report'][key]!r} new {new['report'][key]!r}")
    a, b = old["store"]["conversations"], new["store"]["conversations"]
    for cid in sorted(set(a) | set(b)):
        if cid not in b:
            found.append(f"conversation {cid}: only in old")
        elif cid not in a:
            found.append(f"conversation {cid}: only in new")
        elif a[cid] != b[cid]:
            fields = [k for k in a[cid] if a[cid][k] != b[cid].get(k)]
            found.append(f"conversation {cid}: differs in {fields}")
    if old["store"]["turn_keys"] != new["store"]["turn_keys"]:
        found.append("turn keys differ")
    if old["store"]["fts"] != new["store"]["fts"]:
        found.append("full-text index differs")
    return found


def compare(old_root: Path, corpora: dict[str, Path], workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, corpus in corpora.items():
        sides = {}
        for side, root, workers in (("old", old_root, "1"), ("new-1", ROOT, "1"), ("new", ROOT, "0")):
            store = workdir / f"{name}-{side}.sqlite"
            reports = workdir / f"{name}-{side}-reports"
            default = "2" if workers == "0" else workers
            report = call_in_side(
                root, "ingest_equivalence", "ingest_into", str(corpus), str(store), str(reports), default
            )
            sides[side] = {"report": report, "store": stored(store)}
        entry = {
            "conversations": len(sides["old"]["store"]["conversations"]),
            "records": sides["old"]["report"]["records"],
            "new (2 workers) vs old": differences(sides["old"], sides["new"]),
            "new (1 worker) vs old": differences(sides["old"], sides["new-1"]),
        }
        results[name] = entry
        same = not entry["new (2 workers) vs old"] and not entry["new (1 worker) vs old"]
        print(f"{name:28} {entry['conversations']:7d} conversations  {'identical' if same else 'DIFFERENT'}")
        for label in ("new (2 workers) vs old", "new (1 worker) vs old"):
            for line in entry[label][:20]:
                print(f"    {label}: {line}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", default="d14594d")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--conversations", type=int, default=3200)
    parser.add_argument("--mbox-mb", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_equivalence.json")
    args = parser.parse_args()

    from ingest import _write_large_mbox

    from vocmine.demo.generate import write_corpus

    with tempfile.TemporaryDirectory() as tmp, worktree(args.old) as old_root:
        workdir = Path(tmp)
        demo = workdir / "demo"
        write_corpus(demo, conversations=args.conversations)
        corpora = {"demo": demo}
        twcs = args.shared / "twcs_sample" / "twcs_first5000.csv"
        if twcs.exists():
            corpora["twcs_sample"] = twcs
        mbox = workdir / "large.mbox"
        _write_large_mbox(demo, mbox, args.mbox_mb * 1_000_000)
        corpora[f"mbox ({args.mbox_mb} MB)"] = mbox
        results = compare(old_root, corpora, workdir)
    args.out.write_text(json.dumps({"old": args.old, "corpora": results}, indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}")
    if any(entry[k] for entry in results.values() for k in entry if k.startswith("new")):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

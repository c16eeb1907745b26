"""Write a labelling sample as batch files for the labellers, and a manifest of how each message was
drawn (random or cued; not for the labellers). Shared by the samplers of bench/*_label_sample.py.

Each batch line holds source, id and text; texts stay outside the repository (the batches go to a
folder under var/), and the label files keep only source and id. Within a source, random and cued
messages are shuffled together (by a seed per source), so a labeller cannot tell them apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path

Draw = dict[str, list[tuple[str, str]]]  # source -> [(id, "random" | "cued")]
Texts = dict[tuple[str, str], str]
Plan = dict[str, tuple[int, int, int]]  # source -> (random, cued, messages per batch)


def labelled_keys(paths: Iterable[Path]) -> set[tuple[str, str]]:
    """(source, id) of every message in these label files: messages labelled before, never drawn again."""
    return {
        (row["source"], str(row["id"]))
        for path in paths
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }


def intents_by_row(path: Path, column: str, encoding: str = "utf-8") -> dict[str, str]:
    """A CSV's ``column`` by row number from 1: the ids ``load_real_texts`` gives its rows."""
    with path.open(encoding=encoding, newline="") as handle:
        return {str(n): row[column] for n, row in enumerate(csv.DictReader(handle), start=1)}


def sampler_main(doc: str, plan: Plan, default_seed: int, draw: Callable[[Texts, Path, int], Draw]) -> None:
    """The command line of a sampler: reads the real texts once, draws with ``draw(texts, data,
    seed)`` and writes the batches."""
    from vocmine.analysis.real_texts import load_real_texts

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=default_seed)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = load_real_texts(args.data, sources=plan)
    batch_sizes = {source: sizes[2] for source, sizes in plan.items()}
    write_batches(args.out, draw(texts, args.data, args.seed), texts, batch_sizes, args.seed)


def write_batches(out: Path, draw: Draw, texts: Texts, batch_sizes: dict[str, int], seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for source, rows in draw.items():
            random.Random(f"{seed}-{source}").shuffle(rows)
            size = batch_sizes[source]
            for number, start in enumerate(range(0, len(rows), size), start=1):
                path = out / f"{source}_{number}.jsonl"
                with path.open("w", encoding="utf-8") as handle:
                    for ident, how in rows[start : start + size]:
                        handle.write(json.dumps({"source": source, "id": ident, "text": texts[(source, ident)]}) + "\n")
                        manifest.write(json.dumps({"source": source, "id": ident, "sample": how}) + "\n")
                print(path, len(rows[start : start + size]))


def draw_sample(
    texts: Texts,
    plan: Plan,
    seen_keys: set[tuple[str, str]],
    seen_texts: set[str],
    cued: Callable[[tuple[str, str]], bool],
    seed: int,
) -> Draw:
    """Per source in ``plan`` (random, cued, batch size): that many messages at random, then that many
    more among the rest for which ``cued`` holds. Messages in ``seen_keys``, texts in ``seen_texts``
    (normalised) and texts under 3 characters are never drawn, and each text once: a duplicate
    would only repeat a label."""
    rng = random.Random(seed)
    sample: Draw = {}
    for source, (n_random, n_cued, _) in plan.items():
        keys = []
        for key in sorted(k for k in texts if k[0] == source):
            norm = " ".join(texts[key].lower().split())
            if key in seen_keys or norm in seen_texts or len(norm) < 3:
                continue
            seen_texts.add(norm)
            keys.append(key)
        rng.shuffle(keys)
        chosen, rest = keys[:n_random], keys[n_random:]
        chosen += [k for k in rest if cued(k)][:n_cued]
        sample[source] = [(key[1], "random" if i < n_random else "cued") for i, key in enumerate(chosen)]
    return sample

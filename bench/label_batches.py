"""Write a labelling sample as batch files for the labellers, and a manifest of how each message was
drawn (random or cued; not for the labellers). Shared by the samplers of bench/*_label_sample.py.

Each batch line holds source, id and text; texts stay outside the repository (the batches go to a
folder under var/), and the label files keep only source and id. Within a source, random and cued
messages are shuffled together (by a seed per source), so a labeller cannot tell them apart.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

Draw = dict[str, list[tuple[str, str]]]  # source -> [(id, "random" | "cued")]


def write_batches(
    out: Path, draw: Draw, texts: dict[tuple[str, str], str], batch_sizes: dict[str, int], seed: int
) -> None:
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

"""Real customer texts labelled with a journey stage, read back from ../shared/data by (source, id):
the label files hold only source, id and stage, never the texts.

Three files: ``models/journey/real_examples.jsonl`` (199 texts, labelled by one person), the stages
of ``models/signals/labels.jsonl`` (2,400 messages drawn for signals) and
``models/journey/stage_labels.jsonl`` (950 messages drawn for the rarer stages); the last two were
labelled in two passes with adjudication under ``models/signals/LABELLING_GUIDE.md``. Where files
label the same message, the two-pass label wins (the two-pass files never share a message).
"""

from __future__ import annotations

from pathlib import Path

from vocmine.analysis.real_texts import READERS, labelled_rows, load_real_texts
from vocmine.resources import model_dir

REAL_EXAMPLES = model_dir("journey") / "real_examples.jsonl"
TWO_PASS_LABELS = model_dir("signals") / "labels.jsonl"
STAGE_LABELS = model_dir("journey") / "stage_labels.jsonl"


def load_real_examples(
    data: Path, labels: tuple[Path, ...] = (REAL_EXAMPLES, TWO_PASS_LABELS, STAGE_LABELS)
) -> list[tuple[str, str, str]]:
    """(text, stage, source) for every labelled example; stage may be "unclear"."""
    texts = load_real_texts(data, sources=READERS)
    staged: dict[tuple[str, str], str] = {}
    for path in labels:  # later files win
        for _, key, row, _ in labelled_rows(path, texts):
            staged[key] = row["stage"]
    return [(texts[key], stage, key[0]) for key, stage in staged.items()]

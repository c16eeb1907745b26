"""The sample inputs under tests/data (one per format and tool, written from the tools' documentation),
each with the format detection gives it: what the reader tests and ``bench/ingest.py --per-format``
walk alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vocmine.ingest.inputs.formats import detect_format
from vocmine.ingest.inputs.sniff import Format
from vocmine.settings import Settings

# The company the samples are written for: its agents' domain and its social account.
SAMPLE_SETTINGS = Settings(company_domains=["acme-shop.com"], brand_accounts=["AcmeHelp"])


def sample_inputs(folder: Path) -> Iterator[tuple[Path, bytes, Format]]:
    """Each sample file in ``folder`` (its README notes left out) that detection recognises, in name
    order, with its bytes and its format."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        data = path.read_bytes()
        fmt = detect_format(path.name, data[:65536])
        if fmt is not None:
            yield path, data, fmt

"""Every format vocmine reads is documented, says where its file comes from, and has a sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import FORMATS, detect_format

DOCS = (Path(__file__).resolve().parents[3] / "docs" / "formats.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_documented_with_its_export(name):
    assert f"`{name}`" in DOCS, f"docs/formats.md does not list {name}"
    assert FORMATS[name].export, f"{name} does not say which export or API produces its files"


def test_each_format_has_a_sample_file_it_is_detected_in():
    detected = set()
    for path in DATA.rglob("*"):
        if path.is_file() and path.suffix != ".md":
            found = detect_format(path.name, path.read_bytes()[:65536])
            if found is not None:
                detected.add(found.name)
    # call-native is the chat JSON with timings, taken when the user names the call channel;
    # whatsapp-media are the photos of a WhatsApp export zip, recognised by name (tested in its module)
    assert set(FORMATS) - detected <= {"call-native", "whatsapp-media"}

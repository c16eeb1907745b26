"""Records are read whole wherever a chunk boundary falls: inside a \\u escape, a literal or a number."""

from __future__ import annotations

import io
import json

import pytest

from vocmine.ingest.inputs import jsonstream
from vocmine.ingest.inputs.jsonstream import JsonRecord, iter_json_records
from vocmine.ingest.records import ReadContext
from vocmine.settings import Settings

RECORDS = [
    {"id": i, "text": "Café “déjà vu” ñ 🙂" * (i % 3), "flag": None if i % 2 else True, "score": 2.5 + i, "ok": False}
    for i in range(400)
]


@pytest.mark.parametrize("chunk", [7, 13, 64, 101])
@pytest.mark.parametrize("shape", ["lines", "array"])
def test_every_record_survives_every_boundary(monkeypatch, chunk, shape):
    monkeypatch.setattr(jsonstream, "CHUNK", chunk)
    texts = [json.dumps(r) for r in RECORDS]  # ensure_ascii: \\uXXXX escapes everywhere
    data = ("\n".join(texts) if shape == "lines" else "[" + ",\n".join(texts) + "]").encode()
    items = list(iter_json_records(io.BytesIO(data), ReadContext("t", Settings())))
    assert all(isinstance(i, JsonRecord) for i in items), [i for i in items if not isinstance(i, JsonRecord)][:2]
    assert [i.value for i in items] == RECORDS  # type: ignore[union-attr]


def test_a_bare_number_array_is_not_cut_at_a_boundary(monkeypatch):
    monkeypatch.setattr(jsonstream, "CHUNK", 5)
    items = list(iter_json_records(io.BytesIO(b"[12345.678, 2.5, 1e10]"), ReadContext("t", Settings())))
    assert [i.value for i in items] == [12345.678, 2.5, 1e10]  # type: ignore[union-attr]

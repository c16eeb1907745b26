"""No reader raises on arbitrary input: it yields conversations, thread messages or rejections.

600 examples: each draws one of the 51 formats and one of the prefixes, so every reader meets many."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocmine.ingest.inputs.formats import FORMATS
from vocmine.ingest.inputs.jsonstream import JsonRecord, iter_json_records
from vocmine.ingest.records import ReadContext, Rejection
from vocmine.schema import Conversation
from vocmine.settings import Settings

SETTINGS = Settings(max_record_bytes=5_000)

# Arbitrary bytes, and bytes that start like each format so parsers get past their first checks.
PREFIXES = [
    b"",
    b"WEBVTT\n\n",
    b"1\n00:00:01,000 --> ",
    b"From a@b.c Mon Jan  1 00:00:00 2024\nFrom: a@b.c\n",
    b"From: a@b.c\nSubject: x\n\n",
    b'{"turns": [',
    b'[{"id": ',
    b"id,author,text\n",
    b'{"results": {',
    b'{"segments": [{"start": ',
    b"Customer: ",
    b'{"data": [{"id": "1", "author_id": ',
    # the tools' exports (help desks, chat platforms, speech-to-text, social, surveys)
    b'{"tickets": [{"id": 1, "requester_id": 2, "via": {"channel": "email"}, "comments": [',
    b'{"chats": [{"type": "chat", "visitor": {}, "history": [',
    b'[{"type": "message", "ts": "1700000000.000100", "user": "U1", "text": ',
    b"12/31/20, 9:41 PM - Ann: ",
    b'{"sender_id": "x", "events": [{"event": "user", "text": ',
    b'{"metadata": {"request_id": "r"}, "results": {"channels": [{"alternatives": [',
    b'{"id": "t", "status": "completed", "audio_url": "u", "utterances": [',
    b";; x\nf A s 0.0 1.0 ",
    b'{"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {',
    b'{"reviews": [{"id": "r", "stars": 1, "consumer": {}, "text": ',
    b"Response ID,Submitted,How likely are you to recommend us?,Why?\n",
]
inputs = st.builds(lambda prefix, body: prefix + body, st.sampled_from(PREFIXES), st.binary(max_size=600))
texts = st.builds(
    lambda prefix, body: prefix + body.encode("utf-8", "surrogatepass"),
    st.sampled_from(PREFIXES),
    st.text(max_size=300),
)


def _read_all(format_name: str, data: bytes) -> list[object]:
    reader = FORMATS[format_name].reader
    items = list(reader(io.BytesIO(data), ReadContext("fuzz", SETTINGS)))
    for item in items:
        assert isinstance(item, Conversation | Rejection) or type(item).__name__ == "ThreadMessage"
    return items


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(inputs, texts), format_name=st.sampled_from(sorted(FORMATS)))
def test_readers_never_raise(data, format_name):
    _read_all(format_name, data)


GOOD = (b'{"a": 1}', b"[1, 2]")
BAD = (b"{bad", b'"just a string"', b'{"open": [1, 2')


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([*GOOD, *BAD, b"", b"   "]), max_size=10))
def test_json_lines_yield_one_item_per_non_blank_line(lines):
    records = list(iter_json_records(io.BytesIO(b"\n".join(lines)), ReadContext("fuzz", SETTINGS), unwrap_array=False))
    expected = [line for line in lines if line.strip()]
    if not expected:
        assert len(records) == 1 and isinstance(records[0], Rejection)  # an empty file is reported
        return
    assert len(records) == len(expected)
    for line, record in zip(expected, records, strict=True):
        assert isinstance(record, JsonRecord) == (line in GOOD)


def test_each_format_rejects_plain_junk_with_a_reason():
    junk = bytes(range(256)) * 3
    for name in FORMATS:
        items = _read_all(name, junk)
        assert items, name
        assert all(isinstance(i, Rejection) and i.reason for i in items), name

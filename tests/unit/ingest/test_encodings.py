"""Text inputs in UTF-16, with a BOM or in a legacy code page are read as the text they hold."""

from __future__ import annotations

import io
import json

import pytest

from vocmine.ingest.inputs.encoding import Utf8Transcoder, source_encoding

SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nAgent: Thanks for calling, how can I help?\n\n"
    "2\n00:00:03,500 --> 00:00:06,000\nCustomer: My café bill shows £45 twice – please refund it.\n"
)
CHAT = "Customer: Mon colis n'est jamais arrivé, déçu.\nAgent: Désolé, je vérifie.\n"
CUSTOMER_LINE = "My café bill shows £45 twice – please refund it."


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b""),  # UTF-16 without a BOM, as some Windows tools write it
        ("cp1252", b""),
    ],
)
def test_srt_in_any_encoding_is_read_as_its_text(ingest, store, tmp_path, encoding, bom):
    path = tmp_path / "call.srt"
    path.write_bytes(bom + SRT.replace("\n", "\r\n").encode(encoding))
    report = ingest(path)
    assert report.records_stored == 1, report.rejection_samples
    [conversation] = list(store.iter_conversations())
    assert [t.role for t in conversation.turns] == ["agent", "customer"]
    assert conversation.turns[1].text == CUSTOMER_LINE


def test_legacy_code_page_chat_and_detection_without_a_name(ingest, store, tmp_path):
    path = tmp_path / "transcript"  # no suffix: the content decides
    path.write_bytes(CHAT.encode("cp1252"))
    report = ingest(path)
    assert report.records_stored == 1, report.rejection_samples
    [conversation] = list(store.iter_conversations())
    assert conversation.turns[0].text == "Mon colis n'est jamais arrivé, déçu."


def test_utf16_json_is_detected_and_read(ingest, store, tmp_path):
    record = {
        "id": "c-1",
        "turns": [{"role": "customer", "text": "Zürich order late"}, {"role": "agent", "text": "ok"}],
    }
    path = tmp_path / "chats.json"
    path.write_bytes(json.dumps(record, ensure_ascii=False).encode("utf-16"))  # Python writes a BOM
    report = ingest(path)
    assert report.records_stored == 1, report.rejection_samples
    assert next(iter(store.iter_conversations())).turns[0].text == "Zürich order late"


def test_utf8_and_binary_inputs_are_left_alone():
    assert source_encoding("plain ascii and café".encode()) is None
    assert source_encoding("café".encode()[:-1]) is None  # a character cut at the end of the head
    assert source_encoding(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)) is None  # an OLE file
    assert source_encoding("Prix: 45 € – déjà payé, merci".encode("cp1252") * 4) == "cp1252"
    assert source_encoding("Здравствуйте, мой заказ так и не пришёл.".encode("cp1251") * 4) == "cp1251"


def test_transcoder_streams_across_chunks_without_splitting_characters():
    text = "ü€𝄞 " * 5000
    stream = Utf8Transcoder(io.BytesIO(text.encode("utf-16")), "utf-16", chunk=7)
    assert io.BufferedReader(stream).read().decode("utf-8") == text


def test_utf8_with_a_corrupt_byte_is_not_read_as_a_code_page():
    mostly_utf8 = "Customer: café crème\nAgent: déjà vu\n".encode() + b"Customer: b\xffd byte\n"
    assert source_encoding(mostly_utf8) is None
    assert source_encoding(b'{"text": "b\xffll"}') is None  # JSON is Unicode by definition

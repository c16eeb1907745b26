"""Inputs as users give them: directories, globs, .gz, .zip, bad paths, junk and huge lines."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA
from vocmine.errors import InputPathError


def test_missing_path_is_a_clear_error_naming_it(ingest):
    with pytest.raises(InputPathError, match="does-not-exist"):
        ingest(DATA / "does-not-exist.eml")


def test_unreadable_directory_is_a_clear_error(ingest, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read any directory")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(InputPathError, match="cannot read directory"):
            ingest(locked)
    finally:
        locked.chmod(0o755)


def test_glob_matching_nothing_is_an_error(ingest, tmp_path):
    with pytest.raises(InputPathError, match="no file matches"):
        ingest(tmp_path / "*.mbox")


def test_gzip_and_zip_members_are_read(ingest, store, tmp_path):
    gz = tmp_path / "box.mbox.gz"
    gz.write_bytes(gzip.compress((DATA / "email" / "box.mbox").read_bytes()))
    archive = tmp_path / "calls.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(DATA / "calls" / "whisperx.json", "calls/whisperx.json")
        zf.writestr("calls/voice.vtt.gz", gzip.compress((DATA / "calls" / "voice.vtt").read_bytes()))
        zf.writestr("__MACOSX/._whisperx.json", b"\x00\x05junk")
    report = ingest(gz, archive)
    # by_format counts what each reader accepted; the mbox's headerless message is a rejection.
    assert report.records_by_format == {"mbox": 3, "call-json": 1, "vtt": 1}
    assert report.records_rejected == 1
    assert [s.reason for s in report.files_skipped] == ["hidden file"]
    assert {c.channel for c in store.iter_conversations()} == {"email", "call"}


def test_corrupt_gzip_and_zip_are_rejected_not_fatal(ingest, tmp_path):
    (tmp_path / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"turns": []}\n' * 100)[:-30])
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "ok.txt").write_text("Customer: hello there\nAgent: hi\n", encoding="utf-8")
    report = ingest(tmp_path)
    assert report.records_stored == 1
    reasons = " ".join(r["reason"] for r in report.rejection_samples)
    assert "zip" in reasons and "unreadable" in reasons
    assert report.accounted()


def test_binary_junk_empty_files_and_blank_lines(ingest, tmp_path):
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "blank-lines.jsonl").write_bytes(
        b'\n\n{"id": "a", "turns": [{"role": "customer", "text": "one"}]}\n\n\n'
    )
    report = ingest(tmp_path)
    assert report.records_stored == 1
    reasons = sorted(r["reason"] for r in report.rejection_samples)
    assert reasons == ["binary content: not a format vocmine reads (use --format to force one)", "empty file"]


def test_gigantic_single_line_is_rejected_and_the_next_line_still_read(ingest, settings, tmp_path):
    settings.max_record_bytes = 10_000
    big = '{"id": "big", "turns": [{"role": "customer", "text": "' + "x" * 50_000 + '"}]}\n'
    small = '{"id": "small", "turns": [{"role": "customer", "text": "fine"}]}\n'
    (tmp_path / "big.jsonl").write_text(big + small, encoding="utf-8")
    report = ingest(tmp_path / "big.jsonl")
    assert report.records_stored == 1 and report.records_rejected == 1
    assert "limit" in report.rejection_samples[0]["reason"]


def test_format_can_be_forced_and_unknown_format_is_an_error(ingest, store, tmp_path):
    from vocmine.errors import ConfigError

    odd = tmp_path / "export.data"
    odd.write_text("Customer: my bill is wrong\nAgent: let me check\n", encoding="utf-8")
    report = ingest(odd, format_name="chat-text")
    assert report.records_stored == 1
    with pytest.raises(ConfigError, match="unknown format"):
        ingest(odd, format_name="docx")


def test_in_a_folder_broken_links_pipes_and_corrupt_or_deep_files_are_skipped_or_rejected_and_the_rest_read(
    ingest, store, tmp_path
):
    import gzip
    import json
    import os

    good = {"id": "c1", "channel": "chat", "source": "t", "turns": [{"role": "customer", "text": "my bill is wrong"}]}
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a_good.jsonl").write_text(json.dumps(good) + "\n", encoding="utf-8")
    corrupt = bytearray(gzip.compress((json.dumps(good) + "\n").encode() * 200))
    corrupt[30:60] = bytes(b ^ 0xFF for b in corrupt[30:60])  # corrupt deflate data: zlib.error
    (folder / "b_corrupt.jsonl.gz").write_bytes(bytes(corrupt))
    (folder / "c_deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    os.symlink(tmp_path / "nowhere.jsonl", folder / "d_dangling.jsonl")
    os.mkfifo(folder / "e_pipe.jsonl")  # reading it would block the run for ever
    (folder / "z_last.jsonl").write_text(json.dumps({**good, "id": "c2"}) + "\n", encoding="utf-8")
    report = ingest(folder)
    assert report.accounted() and report.records_stored == 2  # the files after the bad ones were read
    assert {c.id for c in store.iter_conversations()} == {"c1", "c2"}
    rejected = {Path(r["file"]).name: r["reason"] for r in report.rejection_samples}
    assert "b_corrupt.jsonl.gz" in rejected and "c_deep.json" in rejected
    skipped = {Path(s.name).name: s.reason for s in report.files_skipped}
    assert skipped == {
        "d_dangling.jsonl": "broken link",
        "e_pipe.jsonl": "not a regular file (a pipe, socket or device)",
    }


def test_bytes_that_are_not_utf8_reject_their_record_only(ingest, store, tmp_path):
    import json

    def record(ident: str) -> bytes:
        turn = {"role": "customer", "text": "my bill is wrong"}
        return json.dumps({"id": ident, "channel": "chat", "source": "t", "turns": [turn]}).encode()

    lines = tmp_path / "chats.jsonl"
    lines.write_bytes(record("c1") + b"\n" + record("c2").replace(b"bill", b"b\xffll") + b"\n" + record("c3") + b"\n")
    array = tmp_path / "chats.json"
    array.write_bytes(
        b"[" + record("c4") + b"," + record("c5").replace(b"bill", b"\xfe\xff") + b"," + record("c6") + b"]"
    )
    report = ingest(lines, array)
    assert report.accounted() and report.records_stored == 4 and report.records_rejected == 2
    assert {c.id for c in store.iter_conversations()} == {"c1", "c3", "c4", "c6"}
    reasons = {(Path(r["file"]).name, r["position"]): r["reason"] for r in report.rejection_samples}
    assert reasons[("chats.jsonl", "line 2")].startswith("not UTF-8")
    assert reasons[("chats.json", "element 1 at line 1")].startswith("not UTF-8")


def test_a_compressed_input_stops_at_its_inflation_limit(settings, store, tmp_path):
    import json

    from vocmine.services.ingestion import ingest_paths

    row = json.dumps({"id": "c1", "channel": "chat", "source": "t", "turns": [{"role": "customer", "text": "hi"}]})
    padding = " " * 3_000_000  # whitespace between records inflates from almost nothing
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress((row + "\n" + padding + "\n" + row).encode()))
    with zipfile.ZipFile(tmp_path / "export.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.jsonl", row.replace("c1", "c2") + "\n" + padding)
    (tmp_path / "fine.jsonl.gz").write_bytes(gzip.compress(row.replace("c1", "c3").encode()))
    limited = settings.model_copy(update={"max_decompressed_bytes": 1_000_000})
    report = ingest_paths([str(tmp_path)], limited, store, report_dir=tmp_path / "reports")
    assert report.accounted()
    reasons = {Path(r["file"]).name: r["reason"] for r in report.rejection_samples}
    assert "inflate past 1,000,000 bytes" in reasons["bomb.jsonl.gz"]
    assert "inflate past 1,000,000 bytes" in reasons["export.zip!bomb.jsonl"]
    assert {c.id for c in store.iter_conversations()} == {"c1", "c2", "c3"}  # what came before the limit is kept


def test_documentation_beside_exports_in_a_folder_is_skipped_with_the_reason(ingest, store, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "README.md").write_text("# Export of March\n")
    (folder / "LICENSE").write_text("CC-BY\n")
    (folder / "chat.txt").write_bytes((DATA / "chat" / "transcript.txt").read_bytes())
    report = ingest(folder)
    assert report.records_rejected == 0 and report.records_stored >= 1
    assert sorted((Path(s.name).name, s.reason) for s in report.files_skipped) == [
        ("LICENSE", "documentation (README, .md), not an export"),
        ("README.md", "documentation (README, .md), not an export"),
    ]

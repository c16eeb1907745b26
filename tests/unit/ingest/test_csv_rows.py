"""``iter_csv_rows``: line endings, blank rows and the record limit, as every CSV reader sees them."""

from __future__ import annotations

import io

from vocmine.ingest.inputs.csvrows import CsvHeader, CsvRow, iter_csv_rows
from vocmine.ingest.records import ReadContext, Rejection
from vocmine.settings import Settings


def _rows(data: bytes, **settings: int) -> list[object]:
    return list(iter_csv_rows(io.BytesIO(data), ReadContext("posts.csv", Settings(**settings))))


def test_crlf_lone_cr_and_a_last_line_without_newline() -> None:
    items = _rows(b"id,text\r\n1,first\r\n2,a lone\rcarriage return\n3,last")
    assert items[0] == CsvHeader(["id", "text"])
    rows = [item for item in items if isinstance(item, CsvRow)]
    assert [r.cells for r in rows] == [
        {"id": "1", "text": "first"},
        {"id": "2", "text": "a lone carriage return"},  # a CR inside a line reads as a space
        {"id": "3", "text": "last"},
    ]
    assert [r.location.position for r in rows] == ["line 2", "line 3", "line 4"]


def test_blank_rows_are_no_records_and_a_row_of_empty_cells_is_one() -> None:
    items = _rows(b"id,text\n\n  \n , \n,\n1,x\n")
    assert [i.cells for i in items if isinstance(i, CsvRow)] == [{"id": "1", "text": "x"}]
    assert not [i for i in items if isinstance(i, Rejection)]


def test_a_record_over_the_limit_is_rejected_by_its_first_line() -> None:
    """Each line and each field under the limit, the record (a quoted field spanning lines) over it."""
    record = b'1,"' + b"y" * 500 + b"\n" + b"y" * 400 + b'","' + b"z" * 500 + b'"\n'
    items = _rows(b"id,a,b\n" + record + b"2,fits,too\n", max_record_bytes=1000)
    assert [i.cells["id"] for i in items if isinstance(i, CsvRow)] == ["2"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.location.position == "line 2" and rejection.reason == "record larger than the size limit"

"""``parse_timestamp`` reads Twitter's UTC time stamps field by field (a fast path): it must read them
exactly as the RFC 2822 parser it stands in for, and leave what that parser rejects to the general way."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from vocmine.ingest.records import parse_timestamp


def _twitter(moment: datetime, offset: str = "+0000") -> str:
    return moment.strftime(f"%a %b %d %H:%M:%S {offset} %Y")


def test_twitter_utc_stamps_read_as_the_rfc_2822_parser_reads_them() -> None:
    rng = random.Random(7)
    start = datetime(1999, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        text = _twitter(start + timedelta(seconds=rng.randrange(40 * 365 * 86400)))
        parsed, expected = parse_timestamp(text), parsedate_to_datetime(text)
        assert parsed == expected and parsed is not None
        assert parsed.tzinfo is expected.tzinfo  # the same UTC, not an equal offset


@pytest.mark.parametrize("offset", ["+0530", "-0800", "-0000"])
def test_other_offsets_keep_the_general_reading(offset: str) -> None:
    text = _twitter(datetime(2017, 10, 31, 22, 10, 47), offset)
    parsed = parse_timestamp(text)
    assert parsed == parsedate_to_datetime(text)
    assert (parsed.tzinfo is None) == (offset == "-0000")  # RFC 2822: -0000 means "zone unknown"


@pytest.mark.parametrize(
    "text", ["Tue Oct 31 24:10:47 +0000 2017", "Tue Feb 30 22:10:47 +0000 2017", "Tue Oct 31 22:10:60 +0000 2017"]
)
def test_a_field_out_of_range_is_rejected_with_the_value(text: str) -> None:
    with pytest.raises(ValueError, match="unrecognised time stamp"):
        parse_timestamp(text)

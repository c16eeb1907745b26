"""A message spooled where it was read (a worker) is kept as the same message added whole."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from vocmine.ingest.mail_threads import MessageSpool, SpooledMessage
from vocmine.ingest.records import Location, ThreadMessage
from vocmine.schema import Turn


def _message(key: str, brand: str | None, stamp: datetime | None) -> ThreadMessage:
    return ThreadMessage(
        channel="social",
        source="social-csv",
        key=key,
        parent_keys=["p1", "p2"],
        turn=Turn(key=key, role="customer", text=f"text of {key}", timestamp=stamp),
        location=Location("posts.csv", f"row {key}"),
        fallback_thread="subject|cust",
        brand=brand,
        metadata={"is_reply": True},
    )


def test_spooled_and_whole_messages_are_kept_alike() -> None:
    messages = [
        _message("a", "NorthwindHelp", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        _message("b", None, None),
        _message("c", "OtherBrand", datetime(2026, 3, 2, tzinfo=UTC)),
    ]
    whole, spooled = MessageSpool(), MessageSpool()
    try:
        for message in messages:
            whole.add(message)
            # as a worker sends it: pickled on the way, as the pool does
            spooled.add(pickle.loads(pickle.dumps(SpooledMessage.of(message))))
        assert spooled.headers == whole.headers
        assert [h.seq for h in spooled.headers] == [0, 1, 2]
        assert spooled.headers[0].timestamp == datetime(2026, 3, 1, 9, 30, tzinfo=UTC).timestamp()
        assert spooled.headers[0].is_reply and spooled.headers[0].parent_keys == ("p1", "p2")
        assert spooled.brands == whole.brands == {"NorthwindHelp", "OtherBrand"}
        assert spooled.load([0, 1, 2]) == whole.load([0, 1, 2]) == dict(enumerate(messages))
    finally:
        whole.close()
        spooled.close()


def test_a_spooled_message_takes_the_next_place_in_its_spool() -> None:
    spool = MessageSpool()
    try:
        spool.add(_message("a", None, None))
        ready = SpooledMessage.of(_message("b", None, None))
        assert ready.header.seq == -1  # no place until a spool takes it
        spool.add(ready)
        assert spool.headers[1] == ready.header._replace(seq=1)
    finally:
        spool.close()

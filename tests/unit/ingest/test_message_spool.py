"""A message spooled where it was read (a worker) is kept as the same message added whole, and the
spool gives back every message as it was given."""

from __future__ import annotations

import io
import pickle
from datetime import UTC, datetime
from pathlib import Path

from vocmine.ingest.mail_threads import MessageSpool, SpooledMessage, dump_message, load_message
from vocmine.ingest.records import Location, ReadContext, ThreadMessage
from vocmine.schema import Turn
from vocmine.testing.samples import SAMPLE_SETTINGS, sample_inputs

DATA = Path(__file__).resolve().parents[2] / "data"


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


def _sample_thread_messages() -> list[ThreadMessage]:
    """Every thread message the readers make of the sample files (mail, social, chat platforms)."""
    found = []
    for path, data, fmt in sample_inputs(DATA):
        try:
            items = list(fmt.reader(io.BufferedReader(io.BytesIO(data)), ReadContext(path.name, SAMPLE_SETTINGS)))
        except Exception:  # a sample written to break a reader: not what this test is about
            continue
        found += [item for item in items if isinstance(item, ThreadMessage)]
    return found


def test_the_spool_gives_back_each_message_as_it_was_given() -> None:
    samples = _sample_thread_messages()
    assert len({m.source for m in samples}) >= 5  # mail, social and chat-platform readers among them
    odd = _message("d", None, datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC))
    odd.turn = odd.turn.model_copy(update={"text": "caf\udce9 bytes undecoded", "start_s": 0.1 + 0.2})
    odd.metadata = {"is_reply": False, "twilio_attributes": {"n": 1e300, "nested": [None, True, "x"]}}
    for message in [*samples, odd]:
        assert load_message(dump_message(message)) == message
    assert dump_message(odd)[:1] == b"P"  # JSON cannot hold the lone surrogate: pickled instead
    assert dump_message(samples[0])[:1] == b"J"

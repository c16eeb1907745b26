"""Assemble e-mails and social posts into conversations.

Rule: two messages belong to the same conversation when one names the other as a parent
(In-Reply-To, References, in_reply_to_status_id, referenced tweet); messages that name no parent
but are replies by subject ("Re: …") join the thread with the same normalised subject and customer.

The conversation's id comes from its root: the first parent named by the earliest message that has
no parent inside the thread (for e-mail that is References[0], the thread's first message), or that
message's own key. Because the root is named by every later reply, a reply ingested in a later run
gets the same id and is merged into the stored conversation. Where a root is not known in this run,
``lookup`` asks the store which stored conversation holds those keys.

Threading needs every message of a run before any thread is known to be complete, so the messages
wait in a ``MessageSpool`` on disk and only their small ``ThreadHeader`` stays in memory: a large
mailbox is threaded in memory proportional to its message count, not its size.
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pydantic import TypeAdapter

from vocmine.ingest.records import ThreadMessage
from vocmine.schema import Conversation, conversation_id_from_source


# ThreadHeader and SpooledMessage are named tuples, not dataclasses: every message crosses from a
# worker to the ingesting process in this form, and pickling a slotted dataclass walks its fields in
# Python (about 14 us a message against 6 for a tuple).
class ThreadHeader(NamedTuple):
    """What threading needs of a message; ``seq`` finds the whole message in the spool."""

    seq: int
    channel: str
    key: str
    parent_keys: tuple[str, ...]
    fallback_thread: str | None
    is_reply: bool
    timestamp: float | None

    def time_order(self) -> tuple[bool, float, int]:
        """Time order; messages without a time go last; ties keep the order they were read in."""
        return (self.timestamp is None, self.timestamp or 0.0, self.seq)


class SpooledMessage(NamedTuple):
    """A message as the spool keeps it (its header, brand and serialised self: ``dump_message``), made
    where it was read: a worker process hands the run this instead of the message, so the run does not
    read each message back only to serialise it again for the spool."""

    header: ThreadHeader  # its seq is given by the spool that takes it
    brand: str | None
    data: bytes

    @classmethod
    def of(cls, message: ThreadMessage) -> SpooledMessage:
        stamp = message.turn.timestamp
        header = ThreadHeader(
            seq=-1,
            channel=message.channel,
            key=message.key,
            parent_keys=tuple(message.parent_keys),
            fallback_thread=message.fallback_thread,
            is_reply=bool(message.metadata.get("is_reply")),
            timestamp=stamp.timestamp() if stamp else None,
        )
        return SpooledMessage(header, message.brand, dump_message(message))


# Messages are kept as pydantic's JSON of the message (in Rust): three times sooner to write and
# half again sooner to read back than pickling its models (which goes through their Python
# __getstate__ and __setstate__), and what it gives back is the same message (its text fields, time
# and scores; metadata is JSON already, read from JSON exports). A message JSON cannot hold (text
# with a lone surrogate, say) is pickled instead; the first byte says which.
_MESSAGE_JSON: TypeAdapter[ThreadMessage] = TypeAdapter(ThreadMessage)


def dump_message(message: ThreadMessage) -> bytes:
    try:
        return b"J" + _MESSAGE_JSON.dump_json(message)
    except ValueError:  # pydantic's serialisation error is one
        # pickle is safe here: the spool is private to the run and deleted with it.
        return b"P" + pickle.dumps(message)


def load_message(data: bytes) -> ThreadMessage:
    """A message ``dump_message`` wrote."""
    if data[:1] == b"J":
        return _MESSAGE_JSON.validate_json(data[1:])
    loaded: ThreadMessage = pickle.loads(memoryview(data)[1:])
    return loaded


@dataclass
class Thread:
    conversation_id: str
    seqs: list[int]  # in time order


class MessageSpool:
    """Thread messages of one run, kept in a temporary SQLite file until threading."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="vocmine-spool-")
        self._db = sqlite3.connect(Path(self._dir.name) / "spool.sqlite", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE messages (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        self._db.execute("BEGIN")
        self.headers: list[ThreadHeader] = []
        self.brands: set[str] = set()
        # Written a few hundred at a time: one INSERT per message was a tenth of what the run did
        # while its workers read a mailbox.
        self._unwritten: list[tuple[int, bytes]] = []

    def __len__(self) -> int:
        return len(self.headers)

    def add(self, message: ThreadMessage | SpooledMessage) -> None:
        spooled = message if isinstance(message, SpooledMessage) else SpooledMessage.of(message)
        seq = len(self.headers)
        self.headers.append(spooled.header._replace(seq=seq))
        if spooled.brand:
            self.brands.add(spooled.brand)
        self._unwritten.append((seq, spooled.data))
        if len(self._unwritten) >= 512:
            self._write()

    def _write(self) -> None:
        self._db.executemany("INSERT INTO messages VALUES (?, ?)", self._unwritten)
        self._unwritten = []

    def load(self, seqs: list[int]) -> dict[int, ThreadMessage]:
        return {seq: load_message(data) for seq, data in self.load_serialised(seqs).items()}

    def load_serialised(self, seqs: list[int]) -> dict[int, bytes]:
        """The messages as stored, for a worker process to read (``load_message``), not read twice."""
        if self._unwritten:
            self._write()
        found: dict[int, bytes] = {}
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT seq, data FROM messages WHERE seq IN ({marks})", chunk))
        return found

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def plan_threads(
    headers: list[ThreadHeader],
    lookup: Callable[[list[str]], dict[str, str]] | None = None,
) -> tuple[list[Thread], list[int]]:
    """Group messages into threads and name each thread's conversation.

    Returns the threads and the seqs of duplicate messages (a key seen before in this run)."""
    unique: dict[str, ThreadHeader] = {}
    duplicates: list[int] = []
    for header in headers:
        if header.key in unique:
            duplicates.append(header.seq)
        else:
            unique[header.key] = header

    links = _UnionFind()
    for header in unique.values():
        links.find(header.key)
        for parent in header.parent_keys:
            links.union(parent, header.key)
    _link_by_subject(sorted(unique.values(), key=ThreadHeader.time_order), links)

    groups: dict[str, list[ThreadHeader]] = defaultdict(list)
    for header in unique.values():
        groups[links.find(header.key)].append(header)
    for group in groups.values():
        group.sort(key=ThreadHeader.time_order)

    roots = {group_id: _root_keys(group, unique) for group_id, group in groups.items()}
    stored = lookup(sorted({key for keys in roots.values() for key in keys})) if lookup else {}
    threads = []
    for group_id, group in groups.items():
        keys = roots[group_id]
        existing = next((stored[k] for k in keys if k in stored), None)
        threads.append(
            Thread(existing or conversation_id_from_source(group[0].channel, keys[0]), [h.seq for h in group])
        )
    return threads, duplicates


def _link_by_subject(timed: list[ThreadHeader], links: _UnionFind) -> None:
    """Replies without thread headers join the earliest message with their subject and customer."""
    first_by_subject: dict[str, str] = {}
    for header in timed:
        if not header.fallback_thread:
            continue
        if header.parent_keys or not header.is_reply:
            first_by_subject.setdefault(header.fallback_thread, header.key)
            continue
        anchor = first_by_subject.setdefault(header.fallback_thread, header.key)
        links.union(anchor, header.key)


def _root_keys(group: list[ThreadHeader], known: dict[str, ThreadHeader]) -> list[str]:
    """Candidate root keys, best first: the earliest top message's first parent (or own key),
    then the other keys a stored conversation could be found by. ``group`` is in time order."""
    tops = [h for h in group if not any(p in known for p in h.parent_keys)]
    top = (tops or group)[0]
    primary = top.parent_keys[0] if top.parent_keys else top.key
    others = [p for h in group for p in h.parent_keys if p not in known] + [h.key for h in group]
    return list(dict.fromkeys([primary, *others]))


def build_conversation(ordered: list[ThreadMessage], conversation_id: str) -> Conversation:
    """The conversation of one thread, from its messages in time order."""
    first = ordered[0]
    customer_id = next((m.customer_id for m in ordered if m.customer_id and m.turn.role == "customer"), None)
    customer_id = customer_id or next((m.customer_id for m in ordered if m.customer_id), None)
    agent = next((m.turn.speaker for m in ordered if m.turn.role == "agent"), None)
    survey = next((m.survey for m in ordered if m.survey and not m.survey.is_empty()), None)
    metadata: dict[str, object] = {}
    for message in ordered:
        metadata.update({k: v for k, v in message.metadata.items() if k != "is_reply"})
    return Conversation(
        id=conversation_id,
        channel=first.channel,
        source=first.source,
        subject=next((m.subject for m in ordered if m.subject), None),
        customer_id=customer_id,
        agent_id=agent,
        brand=next((m.brand for m in ordered if m.brand), None),
        survey=survey,
        metadata=metadata,
        turns=[m.turn for m in ordered],
    ).with_time_bounds()


def iter_thread_conversations(
    spool: MessageSpool, threads: list[Thread], batch_size: int, prepare: Callable[[ThreadMessage], ThreadMessage]
) -> Iterator[list[Conversation]]:
    """Conversations of the planned threads, a batch at a time, messages loaded from the spool."""
    for start in range(0, len(threads), batch_size):
        batch = threads[start : start + batch_size]
        messages = spool.load([seq for thread in batch for seq in thread.seqs])
        yield [
            build_conversation([prepare(messages[seq]) for seq in thread.seqs], thread.conversation_id)
            for thread in batch
        ]

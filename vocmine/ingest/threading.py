"""Assemble e-mails and social posts into conversations.

Rule: two messages belong to the same conversation when one names the other as a parent
(In-Reply-To, References, in_reply_to_status_id, referenced tweet); messages that name no parent
but are replies by subject ("Re: …") join the thread with the same normalised subject and customer.

The conversation's id comes from its root: the first parent named by the earliest message that has
no parent inside the thread (for e-mail that is References[0], the thread's first message), or that
message's own key. Because the root is named by every later reply, a reply ingested in a later run
gets the same id and is merged into the stored conversation. Where a root is not known in this run,
``lookup`` asks the store which stored conversation holds those keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vocmine.ingest.base import ThreadMessage
from vocmine.schema import Conversation, conversation_id_from_source


@dataclass
class ThreadResult:
    conversations: list[Conversation]
    duplicate_messages: list[ThreadMessage]


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


def assemble_threads(
    messages: Iterable[ThreadMessage],
    lookup: Callable[[list[str]], dict[str, str]] | None = None,
) -> ThreadResult:
    unique: dict[str, ThreadMessage] = {}
    duplicates: list[ThreadMessage] = []
    for message in messages:
        if message.key in unique:
            duplicates.append(message)
        else:
            unique[message.key] = message

    arrival = {key: i for i, key in enumerate(unique)}

    def sort_key(message: ThreadMessage) -> tuple[bool, float, int]:
        """Time order; messages without a time go last; ties keep the order they were read in."""
        stamp = message.turn.timestamp
        return (stamp is None, stamp.timestamp() if stamp else 0.0, arrival[message.key])

    links = _UnionFind()
    for message in unique.values():
        links.find(message.key)
        for parent in message.parent_keys:
            links.union(parent, message.key)
    _link_by_subject(sorted(unique.values(), key=sort_key), links)

    groups: dict[str, list[ThreadMessage]] = defaultdict(list)
    for message in unique.values():
        groups[links.find(message.key)].append(message)
    for group in groups.values():
        group.sort(key=sort_key)

    thread_roots = {group_id: _root_key(group, unique) for group_id, group in groups.items()}
    stored = lookup(sorted({key for keys in thread_roots.values() for key in keys})) if lookup else {}
    conversations = []
    for group_id, group in groups.items():
        keys = thread_roots[group_id]
        existing = next((stored[k] for k in keys if k in stored), None)
        conversations.append(_conversation(group, existing or conversation_id_from_source(group[0].channel, keys[0])))
    return ThreadResult(conversations, duplicates)


def _link_by_subject(timed: list[ThreadMessage], links: _UnionFind) -> None:
    """Replies without thread headers join the earliest message with their subject and customer."""
    first_by_subject: dict[str, str] = {}
    for message in timed:
        if not message.fallback_thread:
            continue
        if message.parent_keys or not message.metadata.get("is_reply"):
            first_by_subject.setdefault(message.fallback_thread, message.key)
            continue
        anchor = first_by_subject.setdefault(message.fallback_thread, message.key)
        links.union(anchor, message.key)


def _root_key(group: list[ThreadMessage], known: dict[str, ThreadMessage]) -> list[str]:
    """Candidate root keys, best first: the earliest top message's first parent (or own key),
    then the other keys a stored conversation could be found by. ``group`` is in time order."""
    tops = [m for m in group if not any(p in known for p in m.parent_keys)]
    top = (tops or group)[0]
    primary = top.parent_keys[0] if top.parent_keys else top.key
    others = [p for m in group for p in m.parent_keys if p not in known] + [m.key for m in group]
    return list(dict.fromkeys([primary, *others]))


def _conversation(ordered: list[ThreadMessage], conversation_id: str) -> Conversation:
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
        metadata=metadata,  # type: ignore[arg-type]
        turns=[m.turn for m in ordered],
    ).with_time_bounds()

"""Slack workspace exports (Workspace settings → Import/Export Data → Export), and Slack API pages.

Shape: https://slack.com/help/articles/220556107-How-to-read-Slack-data-exports and the message
object of https://api.slack.com/events/message. An export is a zip (or its unpacked folder) with
``channels.json``, ``users.json``, ``integration_logs.json`` (``dms.json``, ``groups.json``,
``mpims.json``, ``canvases.json`` in larger exports) and one folder per conversation holding a day file
``YYYY-MM-DD.json`` for each day with activity: a JSON array of message objects (``type: "message"``,
``ts``, ``user``, ``text``, ``user_profile``, ``subtype``, ``bot_id``, ``thread_ts``, ``parent_user_id``,
``reply_count``, ``files``, ``attachments``). vocmine reads a zip member by member, so each day file is
one input, named ``export.zip!support/2024-01-02.json``: the folder names the channel. A
``conversations.history``/``conversations.replies`` API response (``{"ok": true, "messages": [...]}``)
holds the same message objects and is read the same way.

How messages become conversations:

* A thread is a conversation: its root (``thread_ts == ts``, or ``reply_count``) and every reply
  (``thread_ts`` naming the root). Replies can be in later day files than their root, so each threaded
  message is a ``ThreadMessage`` keyed ``slack:<channel>:<ts>`` whose parent is the root's key, and
  the run-wide threading step joins them across files; the conversation's id is derived from the
  root's key (``chat-…``), the same whichever file is read first.
* The messages of a channel-day that are not in a thread are one conversation,
  ``slack-<channel>-<YYYY-MM-DD>`` (the day of the file's name, else the UTC day of each message).
* Roles in a support channel: a bot (``bot_id``, ``subtype: bot_message``) is ``bot``; channel
  events (``channel_join``, ``channel_topic``, ``pinned_item``… subtypes) are ``system`` turns; the
  human who starts a thread is the customer and other humans in it are agents (a reply's
  ``parent_user_id`` names the starter, so this holds across files; a reply without it whose root is
  not in the same file is taken as an agent's). In an un-threaded channel-day the first human to post
  is the customer and the others agents.
* Text: Slack's markup is rendered (``<@U123>`` → ``@U123``, ``<https://x|label>`` → ``label``,
  ``<!here>`` → ``@here``, ``&lt;`` → ``<``). A bot message without text takes its attachments' text.
* Every message is accounted for: stored in a conversation, or rejected with a reason (a deleted
  message, a file shared without a comment, a message without ``ts``, channel events on a day
  without any message).

``users.json``, ``channels.json`` and the other workspace files hold no messages: they are recognised
as ``slack-metadata`` and each yields one rejection saying so, rather than an "unrecognised input".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage
from vocmine.schema import Conversation, SpeakerRole, Turn, conversation_id_from_content, stable_hash

_TS = re.compile(r"^\d{9,11}(?:\.\d{1,6})?$")
_TS_BYTES = re.compile(rb'"(?:ts|thread_ts)"\s*:\s*"\d{9,11}\.\d{1,6}"')
_EMPTY = re.compile(rb"\[\s*\]|\{\s*\}")
_MESSAGE_TYPE = re.compile(rb'"type"\s*:\s*"message"')
_SLACK_ID = re.compile(rb'"(?:id|team_id|team|creator|user|user_id)"\s*:\s*"[UWCGDTB][A-Z0-9]{6,}"')
_DAY_FILE = re.compile(r"(?:^|/)(?P<channel>[^/!]+)/(?P<day>\d{4}-\d{2}-\d{2})\.json$")
_MARKUP = re.compile(r"<([^<>|\n]+)(?:\|([^<>\n]*))?>")
_SAFE_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_METADATA_FILES = {
    "users.json": "the workspace's members",
    "org_users.json": "the organisation's members",
    "channels.json": "the public channels",
    "groups.json": "the private channels",
    "dms.json": "the direct-message conversations",
    "mpims.json": "the group direct messages",
    "integration_logs.json": "the app activity log",
    "canvases.json": "the canvases",
    "content_flags.json": "the content flags",
}
# Channel events: kept as system turns.
_EVENT_SUBTYPES = {
    "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
    "channel_unarchive", "channel_convert_to_private", "channel_convert_to_public", "channel_posting_permissions",
    "group_join", "group_leave", "group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive",
    "pinned_item", "unpinned_item", "reminder_add", "reminder_delete", "bot_add", "bot_remove", "bot_enable",
    "bot_disable", "sh_room_created", "huddle_thread", "channel_canvas_updated",
}  # fmt: skip
_DELETED_SUBTYPES = {"message_deleted", "tombstone"}


# ---------------------------------------------------------------- detection


def detect(sniff: Sniff) -> bool:
    """Slack message objects: ``"type": "message"`` with a Slack ``ts`` ("1700000000.123456")."""
    return sniff.is_json and bool(_TS_BYTES.search(sniff.head)) and bool(_MESSAGE_TYPE.search(sniff.head))


def detect_metadata(sniff: Sniff) -> bool:
    """users.json, channels.json and the other workspace files of an export (or users.list output)."""
    if not sniff.is_json:
        return False
    if sniff.name.replace("!", "/").rsplit("/", 1)[-1] in _METADATA_FILES:
        # An export's workspace file; an empty one ("[]") is written when there is nothing to list.
        return bool(_SLACK_ID.search(sniff.head) or _EMPTY.fullmatch(sniff.stripped.strip()))
    if not _SLACK_ID.search(sniff.head):
        return False
    users = sniff.has_keys("real_name") and bool(sniff.keys & {"profile", "is_bot", "tz", "deleted"})
    channels = (
        sniff.has_keys("created", "creator") or sniff.has_keys("is_general") or sniff.has_keys("topic", "purpose")
    )
    logs = sniff.has_keys("change_type") and bool(sniff.keys & {"service_id", "app_id", "service_type"})
    return users or channels or logs


# ---------------------------------------------------------------- metadata files


def read_slack_metadata(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    base = ctx.name.replace("!", "/").rsplit("/", 1)[-1]
    what = _METADATA_FILES.get(base, "workspace members or channels")
    yield Rejection(
        Location(ctx.name, "file"),
        f"Slack workspace metadata ({base}: {what}), no messages; the messages are in the channel folders' day files",
    )


# ---------------------------------------------------------------- messages


@dataclass
class _Message:
    raw: dict[str, Any]
    location: Location
    ts: str
    text: str
    role: SpeakerRole | None  # None: a human, decided by the conversation it is in
    user: str | None
    speaker: str | None
    subtype: str | None

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(float(self.ts), tz=UTC)

    @property
    def thread_ts(self) -> str | None:
        value = self.raw.get("thread_ts")
        return str(value) if value else None

    def in_thread(self) -> bool:
        root = self.thread_ts
        if root and root != self.ts:
            return True
        return bool(root) or bool(self.raw.get("reply_count") or self.raw.get("replies"))


def read_slack(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """A day file (or API page): thread messages as ThreadMessages, the rest as channel-day chats."""
    where = _DAY_FILE.search(ctx.name.replace("!", "/"))
    folder_channel = where.group("channel") if where else None
    day = where.group("day") if where else None
    messages: list[_Message] = []
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        for value, location in _unwrap(record.value, record.location):
            parsed = _message(value, location)
            if isinstance(parsed, Rejection):
                yield parsed
            else:
                messages.append(parsed)
    channel = folder_channel or _file_stem(ctx.name)
    roots = {m.ts: m for m in messages if m.in_thread() and (m.thread_ts in (None, m.ts))}
    loose: dict[str, list[_Message]] = {}
    for message in messages:
        if message.in_thread():
            yield _thread_message(message, channel, roots)
        else:
            loose.setdefault(day or message.when.date().isoformat(), []).append(message)
    for message_day, members in loose.items():
        yield from _channel_day(members, channel, message_day)


def _unwrap(value: Any, location: Location) -> Iterator[tuple[Any, Location]]:
    """A message, or the messages of an API response ({"ok": true, "messages": [...]})."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list) and "ts" not in value:
        for index, message in enumerate(value["messages"]):
            yield message, Location(location.file, f"{location.position}, message {index}")
    else:
        yield value, location


def _file_stem(name: str) -> str:
    return name.replace("!", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "slack"


def _message(value: Any, location: Location) -> _Message | Rejection:
    if not isinstance(value, dict):
        return Rejection(location, f"expected a Slack message object, found {type(value).__name__}")
    if value.get("type") not in (None, "message"):
        return Rejection(location, f"not a Slack message (type {str(value.get('type'))[:40]!r})")
    subtype = value.get("subtype") if isinstance(value.get("subtype"), str) else None
    if subtype == "message_changed" and isinstance(value.get("message"), dict):
        value, subtype = {**value["message"], "ts": value["message"].get("ts") or value.get("ts")}, None
    if subtype in _DELETED_SUBTYPES or value.get("hidden"):
        return Rejection(location, "deleted Slack message")
    ts = str(value.get("ts") or "")
    if not _TS.match(ts):
        return Rejection(location, f"Slack message without a valid 'ts' ({ts[:30]!r})")
    text = _text(value)
    if not text:
        files = [
            str(f.get("name") or f.get("title") or "file") for f in _list(value.get("files")) if isinstance(f, dict)
        ]
        reason = f"only files shared ({', '.join(files)[:80]})" if files else "no text"
        return Rejection(location, f"Slack message without text: {reason}")
    role: SpeakerRole | None = None
    if subtype in _EVENT_SUBTYPES:
        role = "system"
    elif subtype == "bot_message" or value.get("bot_id") or value.get("bot_profile"):
        role = "bot"
    user = str(value["user"]) if value.get("user") else None
    return _Message(value, location, ts, text, role, user, _speaker(value), subtype)


def _text(value: dict[str, Any]) -> str:
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        parts = []
        for attachment in _list(value.get("attachments")):
            if isinstance(attachment, dict):
                parts += [str(attachment[k]) for k in ("pretext", "title", "text") if attachment.get(k)]
                if not parts and attachment.get("fallback"):
                    parts.append(str(attachment["fallback"]))
        text = "\n".join(parts)
    return html.unescape(clean_text(_MARKUP.sub(_render_markup, text)))


def _render_markup(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:].split("|")[0])
    if target.startswith("!"):
        return label or "@" + target[1:].split("^")[0]
    return label or target.removeprefix("mailto:")


def _speaker(value: dict[str, Any]) -> str | None:
    profile = _dict(value.get("user_profile"))
    bot = _dict(value.get("bot_profile"))
    for candidate in (
        profile.get("real_name"),
        profile.get("display_name"),
        value.get("user_name"),
        value.get("username"),
        bot.get("name"),
        value.get("user"),
        value.get("bot_id"),
    ):
        if candidate:
            return str(candidate)
    return None


def _thread_message(message: _Message, channel: str, roots: dict[str, _Message]) -> Item:
    root_ts = message.thread_ts or message.ts
    is_root = root_ts == message.ts
    role = message.role
    if role is None:
        starter = message.raw.get("parent_user_id") or (roots[root_ts].user if root_ts in roots else None)
        role = "customer" if is_root or (starter and starter == message.user) else "agent"
    key = f"slack:{channel}:{message.ts}"
    try:
        turn = Turn(key=key, role=role, speaker=message.speaker, text=message.text, timestamp=message.when)
    except (ValidationError, ValueError, OverflowError) as exc:
        return Rejection(message.location, f"malformed Slack message: {str(exc)[:200]}")
    return ThreadMessage(
        channel="chat",
        source="slack",
        key=key,
        parent_keys=[] if is_root else [f"slack:{channel}:{root_ts}"],
        turn=turn,
        location=message.location,
        customer_id=message.user if role == "customer" else None,
        metadata={"slack_channel": channel},
    )


def _channel_day(messages: list[_Message], channel: str, day: str) -> Iterator[Item]:
    """The un-threaded messages of one channel-day as one conversation."""
    if all(m.role == "system" for m in messages):
        for message in messages:
            yield Rejection(message.location, f"Slack channel event ({message.subtype}) on a day without messages")
        return
    customer = next((m.user for m in messages if m.role is None and m.user), None)
    try:
        turns = [
            Turn(
                key=f"slack:{channel}:{m.ts}",
                role=m.role or ("customer" if m.user == customer else "agent"),
                speaker=None if m.role == "system" else m.speaker,
                text=m.text,
                timestamp=m.when,
            )
            for m in sorted(messages, key=lambda m: float(m.ts))
        ]
        part = (
            channel
            if _SAFE_CHANNEL.match(channel) and not channel.startswith("mpdm-")
            else stable_hash(channel, length=12)
        )
        return_id = (
            f"slack-{part}-{day}"
            if re.match(r"^\d{4}-\d{2}-\d{2}$", day)
            else conversation_id_from_content("chat", turns)
        )
        agent = next((t.speaker for t in turns if t.role == "agent"), None)
        yield Conversation(
            id=return_id,
            channel="chat",
            source="slack",
            source_id=f"{channel}/{day}",
            customer_id=customer,
            agent_id=agent,
            metadata={"slack_channel": channel, "day": day},
            turns=turns,
        ).with_time_bounds()
    except (ValidationError, ValueError, OverflowError) as exc:
        yield Rejection(messages[0].location, f"malformed Slack channel-day: {str(exc)[:200]}")


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one (optional parts are often null)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

"""Reddit posts and comments: the JSON API's listings and thread pages, and Pushshift-style dumps.

Shapes read (field names from the Reddit API reference, https://www.reddit.com/dev/api, and the
Pushshift dump files, https://github.com/pushshift/api):

* a listing, as ``/r/<subreddit>/new.json``, ``/user/<name>/comments.json`` or ``/search.json`` return
  it: ``{"kind": "Listing", "data": {"children": [{"kind": "t3"|"t1"|"more", "data": {…}}], "after"}}``;
* a thread page, ``/comments/<id>.json``: a two-element array, the post's listing then the comments'
  listing, each comment's ``replies`` a nested listing ("" when it has none), ``more`` stubs where
  Reddit left comments out;
* ``/api/morechildren`` answers (``{"json": {"data": {"things": [...]}}}``);
* Pushshift dumps and API answers: JSON Lines (or ``{"data": [...]}``) of bare submission objects
  (``id, author, title, selftext, created_utc, subreddit``) and comment objects (``id, author, body,
  parent_id, link_id, created_utc, subreddit``), without ``kind``;
* Bulk Downloader for Reddit (BDFR, https://github.com/aliparlakci/bulk-downloader-for-reddit)
  ``archive`` JSON: a submission (``name, title, selftext, author, created_utc, permalink``) with its
  ``comments``, each with ``submission`` (the post's id), ``parent_id`` and nested ``replies`` lists.

Mapping: every post (t3) and comment (t1) becomes one ``ThreadMessage`` keyed by its fullname
(``reddit:t3_abc``); a comment names its post (``link_id``) and its parent (``parent_id``) as parents,
post first, so a thread reassembles across listings, thread pages and dumps, and its conversation id
comes from the post. The post's title is the conversation's subject and the start of its text (a link
post has nothing else to say); a post whose body was deleted or removed keeps its title.

Roles: an author listed in ``brand_accounts`` (with or without "u/") is the agent; "AutoModerator"
is a bot; a comment a moderator or a Reddit admin marked as such (``distinguished``) is a system
turn: moderators speak for the community, not for the company (list the company's moderator
accounts in ``brand_accounts`` when they do); author flair decides nothing. Everyone else is a
customer; a deleted account ("[deleted]", BDFR's "DELETED") is a customer without an id.

Rejected with a reason: comments whose body is "[deleted]" (by its author) or "[removed]" (by
moderators), posts with neither title nor body, and ``more`` stubs, which stand for comments Reddit
left out of the file (fetch them with ``/api/morechildren``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.social_networks.social_common import parse_time
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage
from vocmine.schema import SpeakerRole, Turn
from vocmine.settings import Settings

_GONE = {"[deleted]": "deleted by its author", "[removed]": "removed by the moderators"}
_THING_KINDS = ("t1", "t3", "more", "Listing")


def read_reddit_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        yield from _walk(record.value, record.location, ctx)


def _walk(value: Any, location: Location, ctx: ReadContext) -> Iterator[Item]:
    """Every post and comment in a record, nested replies included (an explicit stack: no recursion
    limit to reach on a deep thread)."""
    stack: list[tuple[Any, str]] = [(value, location.position)]
    while stack:
        node, where = stack.pop()
        children = _children(node, where)
        if children is not None:
            stack.extend(reversed(children))
            continue
        thing = _thing(node)
        if thing is None:
            yield Rejection(Location(location.file, where), _not_reddit(node))
            continue
        kind, data = thing
        label = f"more under {data.get('parent_id')}" if kind == "more" else _fullname(kind, data) or where
        here = Location(location.file, f"{location.position}, {label}")
        replies = data.get("replies") if kind == "t1" else data.get("comments")
        if isinstance(replies, dict):  # the API's nested listing
            stack.append((replies, here.position))
        elif isinstance(replies, list):  # BDFR archives: plain lists of comments
            stack.extend((reply, here.position) for reply in reversed(replies))
        yield _item(kind, data, here, ctx)


def _children(node: Any, where: str) -> list[tuple[Any, str]] | None:
    """The things inside a container (listing, thread page array, API wrapper), or None."""
    if isinstance(node, list):
        return [(child, f"{where}[{i}]") for i, child in enumerate(node)]
    if not isinstance(node, dict):
        return None
    data = node.get("data")
    if node.get("kind") == "Listing" and isinstance(data, dict):
        kids = data.get("children")
        return [(child, where) for child in kids] if isinstance(kids, list) else []
    answer = node.get("json")
    answer_data = answer.get("data") if isinstance(answer, dict) else None
    things = answer_data.get("things") if isinstance(answer_data, dict) else None
    if isinstance(things, list):  # /api/morechildren
        return [(child, where) for child in things]
    if "kind" not in node and isinstance(data, list):  # Pushshift API answer
        return [(child, f"{where}, data[{i}]") for i, child in enumerate(data)]
    return None


def _thing(node: Any) -> tuple[str, dict[str, Any]] | None:
    """(kind, data) of an API thing, or of a bare Pushshift object; None for anything else."""
    if not isinstance(node, dict):
        return None
    if node.get("kind") in ("t1", "t3", "more") and isinstance(node.get("data"), dict):
        return str(node["kind"]), node["data"]
    if "kind" in node:
        return None
    if "body" in node and ("link_id" in node or "parent_id" in node):
        return "t1", node
    if "title" in node and ("selftext" in node or "subreddit" in node):
        return "t3", node
    return None


def _not_reddit(node: Any) -> str:
    if isinstance(node, dict) and node.get("kind") not in (None, *_THING_KINDS):
        return f"not a Reddit post or comment (kind {str(node.get('kind'))[:20]!r})"
    return f"not a Reddit post or comment ({type(node).__name__})"


def _fullname(kind: str, data: dict[str, Any]) -> str:
    name = str(data.get("name") or "")
    if name.startswith(("t1_", "t3_")):
        return name
    ident = str(data.get("id") or "")
    return f"{kind}_{ident}" if ident and kind in ("t1", "t3") else ""


def _item(kind: str, data: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    if kind == "more":
        children = data.get("children")
        count = data.get("count") or (len(children) if isinstance(children, list) else "some")
        return Rejection(
            location,
            f"'more' stub: {count} comment(s) Reddit left out of this file (fetch them with /api/morechildren)",
        )
    fullname = _fullname(kind, data)
    if not fullname:
        return Rejection(location, "Reddit thing has no id")
    if kind == "t1":
        return _comment(fullname, data, location, ctx)
    return _post(fullname, data, location, ctx)


def _post(fullname: str, data: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    title = clean_text(str(data.get("title") or ""))
    body = str(data.get("selftext") or "")
    body = "" if body.strip() in _GONE else clean_text(body)
    text = "\n\n".join(part for part in (title, body) if part)
    if not text:
        return Rejection(location, "post has neither a title nor a body")
    message = _message(fullname, [], data, text, location, ctx)
    if isinstance(message, ThreadMessage):
        message.subject = title or None
        flair = data.get("link_flair_text")
        if flair:
            message.metadata["reddit_flair"] = str(flair)
    return message


def _comment(fullname: str, data: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    body = str(data.get("body") or "")
    if body.strip() in _GONE:
        return Rejection(location, f"comment {_GONE[body.strip()]} ({body.strip()}): no text left")
    text = clean_text(body)
    if not text:
        return Rejection(location, "comment has no text")
    link = data.get("link_id") or (f"t3_{data['submission']}" if isinstance(data.get("submission"), str) else "")
    parents = [str(link or ""), str(data.get("parent_id") or "")]
    return _message(fullname, [p for p in parents if p.startswith(("t1_", "t3_"))], data, text, location, ctx)


def _message(
    fullname: str, parents: list[str], data: dict[str, Any], text: str, location: Location, ctx: ReadContext
) -> Item:
    try:
        timestamp = parse_time(data.get("created_utc") or data.get("created"))
    except ValueError as exc:
        return Rejection(location, str(exc))
    author = str(data.get("author") or "").strip()
    author = "" if author in ("[deleted]", "DELETED") else author  # BDFR writes "DELETED"
    role = _role(author, data.get("distinguished"), ctx)
    key = f"reddit:{fullname}"
    customer_id = (author or None) if role == "customer" else None
    metadata: dict[str, object] = {}
    if data.get("subreddit"):
        metadata["subreddit"] = str(data["subreddit"])
    return ThreadMessage(
        channel="social",
        source="reddit",
        key=key,
        parent_keys=[k for k in dict.fromkeys(f"reddit:{p}" for p in parents) if k != key],
        turn=Turn(key=key, role=role, speaker=_speaker(author, role, data), text=text, timestamp=timestamp),
        location=location,
        customer_id=customer_id,
        brand=author if role == "agent" else None,
        metadata=metadata,
    )


def _role(author: str, distinguished: Any, ctx: ReadContext) -> SpeakerRole:
    if author and _is_brand(author, ctx.settings):
        return "agent"
    if author == "AutoModerator":
        return "bot"
    if distinguished in ("moderator", "admin"):
        return "system"
    return "customer"


def _speaker(author: str, role: SpeakerRole, data: dict[str, Any]) -> str | None:
    """A moderator speaks as the moderation ("moderator", "admin"), not as the private person they
    are; everyone else by their account name (a customer's is made a pseudonym before storage)."""
    if role == "system":
        return str(data.get("distinguished"))
    return author or None


def _is_brand(author: str, settings: Settings) -> bool:
    """Brand accounts may be listed as "AcmeHelp", "u/AcmeHelp" or "/u/AcmeHelp"."""

    def bare(name: str) -> str:
        name = name.strip().lower().lstrip("/@")
        return name[2:] if name.startswith("u/") else name

    return bare(author) in {bare(a) for a in settings.brand_accounts}

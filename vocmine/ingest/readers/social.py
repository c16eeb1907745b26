"""Social posts: Twitter/X API v1.1 and v2 JSON, JSON Lines, and CSV exports.

Each post becomes a ``ThreadMessage``; reply chains become conversations in the threading step.
A post is an agent turn when its author is a configured brand account (``brand_accounts``), or when
the export says so (the TWCS ``inbound`` column: False means the company wrote it).

CSV: the Customer Support on Twitter (TWCS) columns ``tweet_id, author_id, inbound, created_at, text,
response_tweet_id, in_response_to_tweet_id``, or generic columns ``id, author|user|screen_name,
text, created_at, in_reply_to|in_reply_to_status_id``. Quoted fields may hold newlines; bare carriage
returns inside unquoted fields (seen in real TWCS rows) are read as spaces, not as row ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.csvrows import CsvHeader, CsvRow, iter_csv_rows
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage, parse_timestamp
from vocmine.schema import Turn
from vocmine.settings import Settings

# "RT @user: …" at the very start: an old-style retweet, a copy of another post (the retweeter's own
# words, if any, would come before it).
_MANUAL_RETWEET = re.compile(r"^\s*RT\s*@\w+")


def is_manual_retweet(text: str) -> bool:
    return bool(_MANUAL_RETWEET.match(text))


def social_post(
    *,
    post_id: str,
    author: str,
    text: str,
    created_at: Any,
    parent: str | None,
    is_brand: bool | None,
    location: Location,
    ctx: ReadContext,
    source: str,
    root: str | None = None,
) -> Item:
    if not post_id:
        return Rejection(location, "post has no id")
    if not text or not text.strip():
        return Rejection(location, "post has no text")
    if is_manual_retweet(text):
        return Rejection(location, 'retweet (a manual "RT @user" copy of another post): carries no text of its own')
    if not author:
        return Rejection(location, "post has no author")
    try:
        timestamp = parse_timestamp(created_at)
    except ValueError as exc:
        return Rejection(location, str(exc))
    settings = ctx.settings
    brand_account = is_brand if is_brand is not None else _is_brand(author, settings)
    customer_id = None if brand_account else author
    parents = [p for p in (root, parent) if p and p != post_id]
    return ThreadMessage(
        channel="social",
        source=source,
        key=f"tweet:{post_id}",
        parent_keys=[f"tweet:{p}" for p in dict.fromkeys(parents)],
        turn=Turn(
            key=f"tweet:{post_id}",
            role="agent" if brand_account else "customer",
            speaker=author if brand_account else customer_id,
            text=clean_text(text),
            timestamp=timestamp,
        ),
        location=location,
        customer_id=customer_id,
        brand=author if brand_account else None,
    )


def _is_brand(author: str, settings: Settings) -> bool:
    return author.lower().lstrip("@") in {a.lower().lstrip("@") for a in settings.brand_accounts}


# ---------------------------------------------------------------- CSV


def read_posts_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    text_column: str | None = None
    twcs = False
    keys: list[str] | None = None  # every row's cells have the header's names: lower-cased once
    for item in iter_csv_rows(stream, ctx):
        if isinstance(item, CsvHeader):
            columns = [h.lower() for h in item.columns]
            text_column = "text" if "text" in columns else "full_text" if "full_text" in columns else None
            if text_column is None:
                reason = f"CSV has no 'text' column (columns: {', '.join(columns)})"
                yield Rejection(Location(ctx.name, "line 1"), reason)
                return
            twcs = "inbound" in columns and "tweet_id" in columns
        elif isinstance(item, CsvRow):
            keys = keys or [k.lower() for k in item.cells]
            record = dict(zip(keys, item.cells.values(), strict=True))
            yield _csv_post(record, text_column or "text", twcs, item.location, ctx)
        else:
            yield item


def _csv_post(record: dict[str, str], text_column: str, twcs: bool, location: Location, ctx: ReadContext) -> Item:
    def first(*names: str) -> str:
        return next((record[n].strip() for n in names if record.get(n, "").strip()), "")

    parent = first("in_response_to_tweet_id", "in_reply_to", "in_reply_to_status_id", "in_reply_to_status_id_str")
    if parent.endswith(".0"):  # pandas writes integer ids with missing values as floats
        parent = parent[:-2]
    is_brand = None
    if twcs:
        inbound = record.get("inbound", "").strip().lower()
        if inbound not in {"true", "false"}:
            return Rejection(location, f"'inbound' must be True or False, found {record.get('inbound')!r}")
        is_brand = inbound == "false"
    return social_post(
        post_id=first("tweet_id", "id", "id_str"),
        author=first("author_id", "author", "screen_name", "user", "username"),
        text=record[text_column],
        created_at=first("created_at", "date", "timestamp"),
        parent=parent or None,
        is_brand=is_brand,
        location=location,
        ctx=ctx,
        source="twcs-csv" if twcs else "posts-csv",
    )


# ---------------------------------------------------------------- JSON


def read_posts_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and "data" in value:  # API v2 response page
            users = {u.get("id"): u.get("username") for u in (value.get("includes") or {}).get("users", [])}
            data = value["data"] if isinstance(value["data"], list) else [value["data"]]
            for i, post in enumerate(data):
                location = Location(ctx.name, f"{record.location.position}, data[{i}]")
                yield _v2_post(post, users, location, ctx)
        elif isinstance(value, dict):
            yield (
                _v2_post(value, {}, record.location, ctx)
                if "author_id" in value
                else _v1_post(value, record.location, ctx)
            )
        else:
            yield Rejection(record.location, f"expected a post object, found {type(value).__name__}")


def _v1_post(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    if "retweeted_status" in value:
        return Rejection(location, "retweet: carries no text of its own")
    user: dict[str, Any] = value["user"] if isinstance(value.get("user"), dict) else {}
    text = (value.get("extended_tweet") or {}).get("full_text") or value.get("full_text") or value.get("text")
    return social_post(
        post_id=str(value.get("id_str") or value.get("id") or ""),
        author=str(user.get("screen_name") or user.get("id_str") or value.get("user") or ""),
        text=str(text or ""),
        created_at=value.get("created_at"),
        parent=str(value.get("in_reply_to_status_id_str") or value.get("in_reply_to_status_id") or "") or None,
        is_brand=None,
        location=location,
        ctx=ctx,
        source="twitter-v1",
    )


def _v2_post(value: Any, users: dict[Any, Any], location: Location, ctx: ReadContext) -> Item:
    if not isinstance(value, dict):
        return Rejection(location, f"expected a post object, found {type(value).__name__}")
    refs = value.get("referenced_tweets") or []
    if any(r.get("type") == "retweeted" for r in refs if isinstance(r, dict)):
        return Rejection(location, "retweet: carries no text of its own")
    parent = next((str(r.get("id")) for r in refs if isinstance(r, dict) and r.get("type") == "replied_to"), None)
    author_id = str(value.get("author_id") or "")
    return social_post(
        post_id=str(value.get("id") or ""),
        author=str(users.get(author_id) or author_id),
        text=str(value.get("text") or ""),
        created_at=value.get("created_at"),
        parent=parent,
        is_brand=None,
        location=location,
        ctx=ctx,
        source="twitter-v2",
        root=str(value["conversation_id"]) if value.get("conversation_id") else None,
    )

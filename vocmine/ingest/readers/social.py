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

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage, parse_timestamp
from vocmine.schema import Turn
from vocmine.settings import Settings


def _post(
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


class _BoundedLines:
    """The CSV's physical lines, none longer than the record limit: a longer line is read through in
    pieces and dropped (the csv module then sees a blank line), and its number is kept for the
    reader to reject, so one huge field never sits in memory whole."""

    CHUNK = 1 << 16

    def __init__(self, stream: BinaryIO, ctx: ReadContext) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="\n")
        self.ctx = ctx
        self.limit = ctx.settings.max_record_bytes
        self.number = 0
        self.oversized: list[int] = []  # numbers of dropped lines, taken by the reader

    def __iter__(self) -> Iterator[str]:
        consumed = 0
        while True:
            line = self.text.readline(self.limit + 1)
            if not line:
                return
            self.number += 1
            consumed += len(line)
            if len(line) > self.limit and not line.endswith("\n"):
                while (rest := self.text.readline(self.CHUNK)) and not rest.endswith("\n"):
                    consumed += len(rest)
                consumed += len(rest)
                self.oversized.append(self.number)
                line = "\n"
            if self.ctx.on_progress:
                self.ctx.on_progress(consumed)
            body = line[:-1] if line.endswith("\n") else line
            body = body[:-1] if body.endswith("\r") else body
            yield body.replace("\r", " ") + "\n"


def read_posts_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    # The csv module's field limit is process-wide; it is set to the record limit here, where a file
    # is read under it, so a quoted field spanning lines cannot grow past it either.
    csv.field_size_limit(ctx.settings.max_record_bytes)
    lines = _BoundedLines(stream, ctx)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        yield Rejection(Location(ctx.name, "line 1"), f"unreadable CSV header: {exc}")
        return
    if not header:
        yield Rejection(Location(ctx.name, "file"), "empty CSV file")
        return
    columns = [h.strip().lower() for h in header]
    text_column = "text" if "text" in columns else "full_text" if "full_text" in columns else None
    if text_column is None:
        yield Rejection(Location(ctx.name, "line 1"), f"CSV has no 'text' column (columns: {', '.join(columns)})")
        return
    twcs = "inbound" in columns and "tweet_id" in columns
    line_number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            yield from _oversized(lines, ctx)
            return
        except UnicodeDecodeError as exc:
            yield Rejection(
                Location(ctx.name, f"line {reader.line_num + 1}"),
                f"not UTF-8 text ({exc.reason}) – the rest of the file was not read",
            )
            return
        except csv.Error as exc:
            yield Rejection(Location(ctx.name, f"line {reader.line_num}"), f"malformed CSV: {exc}")
            continue
        start_line, line_number = line_number + 1, reader.line_num
        location = Location(ctx.name, f"line {start_line}")
        yield from _oversized(lines, ctx)
        if not any(cell.strip() for cell in row):
            continue  # blank line: no record
        if len(row) != len(columns):
            yield Rejection(location, f"expected {len(columns)} fields, found {len(row)}")
            continue
        record = dict(zip(columns, row, strict=True))
        if sum(len(v) for v in row) > ctx.settings.max_record_bytes:
            yield Rejection(location, "record larger than the size limit")
            continue
        yield _csv_post(record, text_column, twcs, location, ctx)


def _oversized(lines: _BoundedLines, ctx: ReadContext) -> Iterator[Rejection]:
    while lines.oversized:
        yield Rejection(
            Location(ctx.name, f"line {lines.oversized.pop(0)}"),
            f"record larger than the {ctx.settings.max_record_bytes:,}-byte limit (VOCMINE_MAX_RECORD_BYTES)",
        )


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
    return _post(
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
    return _post(
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
    return _post(
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

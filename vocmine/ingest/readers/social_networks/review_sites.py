"""Review sites read as social conversations: Trustpilot (Business API JSON and the Business CSV
export), and the pieces every review reader shares (the app stores are in ``app_stores``).

A review is a conversation on the "social" channel: the reviewer's title and text are the customer's
turn, the company's public reply (when there is one) the agent's turn. The star rating (1–5) is the
conversation's CSAT; the conversation id is ``<tool>-<review id>``; ``brand`` and ``product`` come from
the business or app the review is about, where the file names it. A review that has a rating but no
words is rejected ("rating only"): it holds a score but no voice, and a conversation needs a turn.

Trustpilot
----------
* ``trustpilot-json``: Business Units API reviews, as ``GET /v1/private/business-units/{id}/reviews``
  and ``GET /v1/business-units/{id}/reviews`` return them (https://developers.trustpilot.com/
  business-units-api): ``{"reviews": [{"id", "stars", "title", "text", "language", "createdAt",
  "consumer": {"id", "displayName"}, "companyReply": {"text", "createdAt", "authorBusinessUserId",
  "authorBusinessUserName"}, "businessUnit": {"id", "displayName", "identifyingName"}, "status",
  "isVerified", "referenceId", "tags": [{"group", "value"}], "location": {"name"}}], "links": […]}``,
  a bare array or JSON Lines of such reviews, and ``productReviews`` pages (``content`` for text).
  Mapping: ``consumer.id`` (else ``displayName``) is the customer id, ``displayName`` the customer's
  label; ``authorBusinessUserId``/``Name`` the agent; ``businessUnit.displayName`` the brand; the
  review's ``language`` the conversation's language; ``status``, ``isVerified``, ``referenceId``
  (the order number), tags and location go to metadata.
* ``trustpilot-csv``: the review export of Trustpilot Business (Reviews › Export), with columns
  "Review Id", "Review Created (UTC)", "Review Consumer User Id", "Review Username", "Review Title",
  "Review Content", "Review Stars", "Review Language", "Source Of Review", "Reference Id",
  "Webshop Name", "Domain URL", "Business Unit Id", "Tags", "Location Name", and the reply as
  "Company Reply Date (UTC)" with "Company Response" (reply columns are found by "reply"/"response"
  in their name: exports name them differently over the years).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.csvrows import CsvHeader, CsvRow, iter_csv_rows
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.social_networks.social_common import dict_or_empty, parse_time, text_of
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.schema import Conversation, JsonValue, SurveyScores, Turn, conversation_id_from_content

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


# ---------------------------------------------------------------- shared by every review reader


@dataclass
class Review:
    """One review as the tools give it, before it becomes a conversation."""

    tool: str
    review_id: str
    author: str | None
    title: str
    text: str
    stars: Any
    created: Any
    reply_text: str = ""
    reply_at: Any = None
    reply_author: str | None = None
    reply_author_id: str | None = None
    customer_id: str | None = None
    brand: str | None = None
    product: str | None = None
    language: str | None = None
    metadata: dict[str, JsonValue] = field(default_factory=dict)


def review_conversation(review: Review, location: Location) -> Item:
    title, text = clean_text(review.title or ""), clean_text(review.text or "")
    if not title and not text:
        return Rejection(location, "rating only: the review has no title or text")
    stars = _stars(review.stars)
    if isinstance(stars, str):
        return Rejection(location, stars)
    reply = clean_text(review.reply_text or "")
    try:
        created, replied = parse_time(review.created), parse_time(review.reply_at) if reply else None
    except ValueError as exc:
        return Rejection(location, str(exc))
    try:
        turns = [
            Turn(role="customer", speaker=review.author or None, text=_title_and_text(title, text), timestamp=created)
        ]
        if reply:
            speaker = review.reply_author or review.brand
            turns.append(Turn(role="agent", speaker=speaker, text=reply, timestamp=replied))
        # "en", "en-GB", "en_GB": the conversation keeps the language, not the region.
        language = re.split(r"[-_]", (review.language or "").strip().lower(), maxsplit=1)[0]
        return Conversation(
            id=f"{review.tool}-{review.review_id}"
            if review.review_id
            else conversation_id_from_content("social", turns),
            channel="social",
            source=review.tool,
            source_id=review.review_id or None,
            subject=title or None,
            customer_id=review.customer_id or review.author or None,
            agent_id=(review.reply_author_id or review.reply_author) if reply else None,
            brand=review.brand or None,
            product=review.product or None,
            language=language if _LANGUAGE.match(language) else None,
            survey=SurveyScores(csat=stars) if stars is not None else None,
            metadata={k: v for k, v in review.metadata.items() if v not in (None, "", [], {})},
            turns=turns,
        ).with_time_bounds()
    except (ValidationError, ValueError, TypeError) as exc:
        return Rejection(location, f"malformed {review.tool} review: {str(exc)[:200]}")


def _title_and_text(title: str, text: str) -> str:
    """The customer's words: the title carries the verdict ("Never again"), so it leads the text
    unless the text already starts with it (Trustpilot fills an empty title with the text's start)."""
    if not title:
        return text
    if not text or text.startswith(title.rstrip(".…").strip()):
        return text or title
    return f"{title}\n\n{text}"


def _stars(value: Any) -> float | str | None:
    """The rating as a number 1–5, None when absent, or why it is not one."""
    if value is None or value == "":
        return None
    try:
        stars = float(str(value).strip())
    except ValueError:
        return f"star rating is not a number: {str(value)[:20]!r}"
    if not 1 <= stars <= 5:
        return f"star rating must be 1–5, found {str(value)[:20]!r}"
    return stars


def json_reviews(
    stream: BinaryIO, ctx: ReadContext, wrappers: tuple[str, ...]
) -> Iterator[tuple[Any, Location] | Rejection]:
    """Each review object of a JSON input: inside a page's wrapper list (``{"reviews": [...]}``), or
    one per line / array element."""
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        wrapper = next((w for w in wrappers if isinstance(value, dict) and isinstance(value.get(w), list)), None)
        if wrapper is None:
            yield value, record.location
            continue
        for i, review in enumerate(value[wrapper]):
            yield review, Location(ctx.name, f"{record.location.position}, {wrapper}[{i}]")


def csv_reviews(
    stream: BinaryIO, ctx: ReadContext, *shapes: tuple[str, ...]
) -> Iterator[tuple[dict[str, str], Location] | Rejection]:
    """Each row of a review CSV export, its cells by lower-cased column name; a header that has the
    columns of none of the ``shapes`` is one rejection."""
    for item in iter_csv_rows(stream, ctx):
        if isinstance(item, CsvHeader):
            columns = {c.lower() for c in item.columns}
            if not any(set(shape) <= columns for shape in shapes):
                wanted = " or ".join("(" + ", ".join(shape) + ")" for shape in shapes)
                yield Rejection(Location(ctx.name, "line 1"), f"CSV lacks the columns {wanted}")
                return
        elif isinstance(item, CsvRow):
            yield {k.lower(): v.strip() for k, v in item.cells.items()}, item.location
        else:
            yield item


# ---------------------------------------------------------------- Trustpilot


def read_trustpilot_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in json_reviews(stream, ctx, ("reviews", "productReviews")):
        if isinstance(found, Rejection):
            yield found
            continue
        value, location = found
        if not isinstance(value, dict):
            yield Rejection(location, f"expected a Trustpilot review object, found {type(value).__name__}")
            continue
        yield review_conversation(_trustpilot_review(value), location)


def _trustpilot_review(value: dict[str, Any]) -> Review:
    consumer = dict_or_empty(value.get("consumer"))
    reply = dict_or_empty(value.get("companyReply") or value.get("firstCompanyComment"))
    unit = dict_or_empty(value.get("businessUnit"))
    tags = [
        f"{t.get('group')}:{t.get('value')}" if t.get("group") else str(t.get("value"))
        for t in (value["tags"] if isinstance(value.get("tags"), list) else [])
        if isinstance(t, dict) and t.get("value")
    ]
    return Review(
        tool="trustpilot",
        review_id=text_of(value.get("id")),
        author=text_of(consumer.get("displayName")) or None,
        customer_id=text_of(consumer.get("id")) or None,
        title=text_of(value.get("title")),
        text=text_of(value.get("text") or value.get("content")),
        stars=value.get("stars"),
        created=value.get("createdAt"),
        reply_text=text_of(reply.get("text") or reply.get("content")),
        reply_at=reply.get("createdAt"),
        reply_author=text_of(reply.get("authorBusinessUserName")) or None,
        reply_author_id=text_of(reply.get("authorBusinessUserId")) or None,
        brand=text_of(unit.get("displayName") or unit.get("identifyingName")) or None,
        language=text_of(value.get("language")) or None,
        metadata={
            "status": value.get("status"),
            "verified": value.get("isVerified"),
            "reference_id": value.get("referenceId"),
            "tags": tags,
            "location": dict_or_empty(value.get("location")).get("name"),
        },
    )


TRUSTPILOT_CSV_SHAPE = ("review stars",)


def read_trustpilot_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in csv_reviews(stream, ctx, TRUSTPILOT_CSV_SHAPE):
        if isinstance(found, Rejection):
            yield found
            continue
        row, location = found
        yield review_conversation(_trustpilot_row(row), location)


def _trustpilot_row(row: dict[str, str]) -> Review:
    def first(*names: str) -> str:
        return next((row[n] for n in names if row.get(n)), "")

    reply_text = next((v for k, v in row.items() if ("reply" in k or "response" in k) and "date" not in k and v), "")
    reply_at = next((v for k, v in row.items() if ("reply" in k or "response" in k) and "date" in k and v), "")
    return Review(
        tool="trustpilot",
        review_id=first("review id"),
        author=first("review username", "review consumer name") or None,
        customer_id=first("review consumer user id") or None,
        title=first("review title"),
        text=first("review content", "review text"),
        stars=first("review stars"),
        created=first("review created (utc)", "review created", "review date"),
        reply_text=reply_text,
        reply_at=reply_at,
        brand=first("webshop name", "business unit name", "domain url") or None,
        language=first("review language") or None,
        metadata={
            "review_source": first("source of review") or None,
            "reference_id": first("reference id", "reference number") or None,
            "tags": [t.strip() for t in first("tags").split(",") if t.strip()],
            "location": first("location name") or None,
        },
    )

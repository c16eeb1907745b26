"""App store reviews read as social conversations: Apple App Store and Google Play.

Each review becomes one conversation through ``review_sites.review_conversation``: the reviewer's title
and text are the customer's turn, the developer's reply the agent's, the stars (1–5) the CSAT, the
app the product; see ``review_sites`` for the rules every review reader shares.

Apple App Store
---------------
* App Store Connect API, ``GET /v1/apps/{id}/customerReviews`` (https://developer.apple.com/
  documentation/appstoreconnectapi/get-v1-apps-_id_-customerreviews), optionally with
  ``include=response``: ``{"data": [{"type": "customerReviews", "id", "attributes": {"rating", "title",
  "body", "reviewerNickname", "createdDate", "territory"}, "relationships": {"response": {"data":
  {"type": "customerReviewResponses", "id"}}}}], "included": [{"type": "customerReviewResponses", "id",
  "attributes": {"responseBody", "lastModifiedDate", "state"}}], "links": {"self", "next"}}``.
  Id ``appstore-<id>``; the app's id (from ``links.self``) is the product; territory and the reply's
  state go to metadata.
* The public customer-reviews feed, ``https://itunes.apple.com/<country>/rss/customerreviews/id=<app
  id>/sortBy=mostRecent/json``: ``{"feed": {"entry": [{"id": {"label"}, "author": {"name": {"label"}},
  "title": {"label"}, "content": {"label"}, "im:rating": {"label"}, "im:version": {"label"},
  "updated": {"label"}}], "id": {"label": <feed URL>}}}``. Every value is wrapped in ``{"label": …}``;
  ``entry`` is an object when the feed holds one review. Older feeds start with an entry for the app
  itself (``im:name``, no rating): it names the product and is not a review, so it yields nothing.
  The feed carries no developer replies.

Google Play
-----------
* Google Play Developer API ``reviews.list`` / ``reviews.get`` (https://developers.google.com/
  android-publisher/api-ref/rest/v3/reviews): ``{"reviews": [{"reviewId", "authorName", "comments":
  [{"userComment": {"text", "lastModified": {"seconds", "nanos"}, "starRating", "reviewerLanguage",
  "device", "androidOsVersion", "appVersionCode", "appVersionName", "thumbsUpCount"}},
  {"developerComment": {"text", "lastModified"}}]}], "tokenPagination": …}``. A user comment's text is
  "title<TAB>body" when the reviewer gave a title. The answer does not name the app (it is in the
  request path), so the product is left empty.
* The Play Console's monthly review reports (Download reports › Reviews; Cloud Storage
  ``reviews/reviews_<package>_<YYYYMM>.csv``, UTF-16, transcoded before reading): columns "Package
  Name", "App Version Code", "App Version Name", "Reviewer Language", "Device", "Review Submit Date and
  Time", "Review Submit Millis Since Epoch", "Review Last Update Date and Time", "Star Rating", "Review
  Title", "Review Text", "Developer Reply Date and Time", "Developer Reply Text", "Review Link". The
  id is the ``reviewId`` in the review link (else a content hash); the package name is the product.

Play's reviewer language is the device's setting, not necessarily the review's, so it goes to
metadata and the conversation's language is detected from the text.

Open-source scrapers
--------------------
Review files in the wild are often written by scrapers rather than the stores' own exports; their
record shapes are read too (as JSON, JSON Lines or an array, and as the CSV pandas writes of them):

* google-play-scraper (https://github.com/JoMingyu/google-play-scraper, ``reviews()``): ``reviewId,
  userName, content, score, thumbsUpCount, reviewCreatedVersion, at, replyContent, repliedAt,
  appVersion`` — read by ``googleplay-json`` / ``googleplay-csv``;
* app-store-scraper for Python (https://github.com/cowboy-bebug/app-store-scraper): ``date,
  isEdited, rating, review, title, userName, developerResponse {body, modified}``, and for Node
  (https://github.com/facundoolano/app-store-scraper, ``reviews()``): ``id, userName, userUrl,
  version, score, title, text, updated`` — read by ``appstore-json`` / ``appstore-csv``.

A record without the store's review id gets a content-hash id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.readers.social_networks.review_sites import Review, csv_reviews, json_reviews, review_conversation
from vocmine.ingest.readers.social_networks.social_common import dict_or_empty, text_of
from vocmine.ingest.records import Item, Location, ReadContext, Rejection

_APP_ID = re.compile(r"/apps/(\d+)/|[/=]id=?(\d+)")
_FEED_COUNTRY = re.compile(r"apple\.com/([a-z]{2})/rss/", re.IGNORECASE)
_PLAY_REVIEW_ID = re.compile(r"reviewId=([^&#\s]+)")


# ---------------------------------------------------------------- App Store


def read_appstore_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in json_reviews(stream, ctx, ()):
        if isinstance(found, Rejection):
            yield found
            continue
        value, location = found
        if isinstance(value, dict) and isinstance(value.get("feed"), dict):
            yield from _feed(value["feed"], location)
        elif isinstance(value, dict) and "data" in value:
            yield from _connect_page(value, location)
        elif isinstance(value, dict) and value.get("type") == "customerReviews":
            yield _connect_review(value, {}, None, location)
        elif isinstance(value, dict) and _is_scraped_appstore(value):
            yield _scraped_appstore({k.lower(): v for k, v in value.items()}, location)
        else:
            yield Rejection(location, "not an App Store Connect customerReviews answer or a customer-reviews feed")


def _connect_page(page: dict[str, Any], location: Location) -> Iterator[Item]:
    data = page["data"]
    reviews = data if isinstance(data, list) else [data]
    responses = {
        str(r.get("id")): dict_or_empty(r.get("attributes"))
        for r in (page["included"] if isinstance(page.get("included"), list) else [])
        if isinstance(r, dict) and r.get("type") == "customerReviewResponses"
    }
    app_id = _app_id(dict_or_empty(page.get("links")).get("self"))
    for i, review in enumerate(reviews):
        yield _connect_review(review, responses, app_id, Location(location.file, f"{location.position}, data[{i}]"))


def _connect_review(value: Any, responses: dict[str, dict[str, Any]], app_id: str | None, location: Location) -> Item:
    if not isinstance(value, dict) or value.get("type") not in ("customerReviews", None):
        kind = value.get("type") if isinstance(value, dict) else type(value).__name__
        return Rejection(location, f"not a customer review (type {str(kind)[:40]!r})")
    attributes = dict_or_empty(value.get("attributes"))
    response_ref = dict_or_empty(dict_or_empty(dict_or_empty(value.get("relationships")).get("response")).get("data"))
    response = responses.get(str(response_ref.get("id")), {})
    return review_conversation(
        Review(
            tool="appstore",
            review_id=text_of(value.get("id")),
            author=text_of(attributes.get("reviewerNickname")) or None,
            title=text_of(attributes.get("title")),
            text=text_of(attributes.get("body")),
            stars=attributes.get("rating"),
            created=attributes.get("createdDate"),
            reply_text=text_of(response.get("responseBody")),
            reply_at=response.get("lastModifiedDate"),
            product=app_id,
            metadata={"territory": attributes.get("territory"), "response_state": response.get("state")},
        ),
        location,
    )


def _app_id(link: Any) -> str | None:
    match = _APP_ID.search(str(link or ""))
    return (match.group(1) or match.group(2)) if match else None


def _label(value: Any) -> str:
    """An RSS-as-JSON value: ``{"label": "…"}`` (or a list of them, text before HTML)."""
    if isinstance(value, list):
        plain = [v for v in value if dict_or_empty(dict_or_empty(v).get("attributes")).get("type") != "html"]
        value = (plain or value or [None])[0]
    if isinstance(value, dict):
        return text_of(value.get("label"))
    return text_of(value)


def _feed(feed: dict[str, Any], location: Location) -> Iterator[Item]:
    entries = feed.get("entry") or []
    entries = entries if isinstance(entries, list) else [entries]
    app = next((e for e in entries if isinstance(e, dict) and "im:name" in e and "im:rating" not in e), None)
    feed_url = _label(feed.get("id"))
    product = _label(app.get("im:name")) if app else _app_id(feed_url)
    country = _FEED_COUNTRY.search(feed_url)
    for i, entry in enumerate(entries):
        if entry is app:
            continue  # the app's own entry: it named the product above, it is not a review
        here = Location(location.file, f"{location.position}, entry[{i}]")
        if not isinstance(entry, dict):
            yield Rejection(here, f"expected a review entry, found {type(entry).__name__}")
            continue
        yield review_conversation(
            Review(
                tool="appstore",
                review_id=_label(entry.get("id")),
                author=_label(dict_or_empty(entry.get("author")).get("name")) or None,
                title=_label(entry.get("title")),
                text=_label(entry.get("content")),
                stars=_label(entry.get("im:rating")),
                created=_label(entry.get("updated")),
                product=product,
                metadata={
                    "app_version": _label(entry.get("im:version")),
                    "territory": country.group(1).upper() if country else None,
                },
            ),
            here,
        )


def _is_scraped_appstore(record: dict[str, Any]) -> bool:
    keys = {k.lower() for k in record}
    return {"username", "rating", "review"} <= keys or {"username", "userurl", "score", "text"} <= keys


def _scraped_appstore(record: dict[str, Any], location: Location) -> Item:
    """A review as app-store-scraper writes it (keys lower-cased: JSON and CSV alike)."""
    response = record.get("developerresponse")
    if isinstance(response, str) and response.strip().startswith("{"):  # pandas wrote the dict's repr
        response = _literal_dict(response)
    response = dict_or_empty(response)
    return review_conversation(
        Review(
            tool="appstore",
            review_id=text_of(record.get("id")),
            author=text_of(record.get("username")) or None,
            title=text_of(record.get("title")),
            text=text_of(record.get("review") or record.get("text")),
            stars=record.get("rating") if record.get("rating") not in (None, "") else record.get("score"),
            created=record.get("date") or record.get("updated"),
            reply_text=text_of(response.get("body")),
            reply_at=response.get("modified"),
            metadata={"app_version": record.get("version"), "edited": _flag(record.get("isedited"))},
        ),
        location,
    )


def _literal_dict(text: str) -> dict[str, Any]:
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = text_of(value).strip().lower()
    return {"true": True, "false": False}.get(text)


APPSTORE_CSV_SHAPES = (("username", "rating", "review"), ("username", "score", "text"))


def read_appstore_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in csv_reviews(stream, ctx, *APPSTORE_CSV_SHAPES):
        if isinstance(found, Rejection):
            yield found
            continue
        row, location = found
        yield _scraped_appstore(dict(row), location)


# ---------------------------------------------------------------- Google Play


def read_googleplay_json(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in json_reviews(stream, ctx, ("reviews",)):
        if isinstance(found, Rejection):
            yield found
            continue
        value, location = found
        if isinstance(value, dict) and isinstance(value.get("comments"), list):
            yield _play_review(value, location)
        elif isinstance(value, dict) and "content" in value and ("score" in value or "reviewId" in value):
            yield _scraped_play({k.lower(): v for k, v in value.items()}, location)
        else:
            yield Rejection(location, "not a Google Play review (no 'comments' list, no 'content')")


def _play_review(value: dict[str, Any], location: Location) -> Item:
    comments = [dict_or_empty(c) for c in value["comments"]]
    user = next((c["userComment"] for c in comments if isinstance(c.get("userComment"), dict)), None)
    if user is None:
        return Rejection(location, "Google Play review has no user comment")
    developer: dict[str, Any] = next(
        (c["developerComment"] for c in comments if isinstance(c.get("developerComment"), dict)), {}
    )
    head, tab, tail = text_of(user.get("text")).partition("\t")
    title, body = (head, tail) if tab else ("", head)
    device = dict_or_empty(user.get("deviceMetadata"))
    return review_conversation(
        Review(
            tool="googleplay",
            review_id=text_of(value.get("reviewId")),
            # Play shows reviewers who hide their name as "A Google user": no one in particular.
            author=text_of(value.get("authorName")).replace("A Google user", "") or None,
            title=title,
            text=body,
            stars=user.get("starRating"),
            created=_play_time(user.get("lastModified")),
            reply_text=text_of(developer.get("text")),
            reply_at=_play_time(developer.get("lastModified")),
            metadata={
                "reviewer_language": user.get("reviewerLanguage"),
                "device": user.get("device") or device.get("productName"),
                "app_version": user.get("appVersionName") or text_of(user.get("appVersionCode")) or None,
                "android_os_version": user.get("androidOsVersion"),
                "thumbs_up": user.get("thumbsUpCount"),
            },
        ),
        location,
    )


def _play_time(value: Any) -> Any:
    """A protobuf Timestamp ``{"seconds": "1453978803", "nanos": 796000000}`` as epoch seconds."""
    if not isinstance(value, dict):
        return value
    try:
        return float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9 or None
    except (TypeError, ValueError):
        return text_of(value.get("seconds"))  # parse_timestamp names the bad value


def _scraped_play(record: dict[str, Any], location: Location) -> Item:
    """A review as google-play-scraper writes it (keys lower-cased: JSON and CSV alike)."""
    return review_conversation(
        Review(
            tool="googleplay",
            review_id=text_of(record.get("reviewid")),
            author=text_of(record.get("username")).replace("A Google user", "") or None,
            title="",
            text=text_of(record.get("content")),
            stars=record.get("score"),
            created=record.get("at"),
            reply_text=text_of(record.get("replycontent")),
            reply_at=record.get("repliedat"),
            metadata={
                "app_version": record.get("appversion") or record.get("reviewcreatedversion"),
                "thumbs_up": record.get("thumbsupcount"),
            },
        ),
        location,
    )


GOOGLEPLAY_CSV_SHAPES = (("star rating",), ("content", "score"))


def read_googleplay_csv(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for found in csv_reviews(stream, ctx, *GOOGLEPLAY_CSV_SHAPES):
        if isinstance(found, Rejection):
            yield found
            continue
        row, location = found
        if "star rating" in row:
            yield _console_row(row, location)
        elif "content" in row and "score" in row:
            yield _scraped_play(dict(row), location)
        else:
            yield Rejection(
                location, "neither a Play Console report row ('Star Rating') nor a scraped review ('score')"
            )


def _console_row(row: dict[str, str], location: Location) -> Item:
    link = _PLAY_REVIEW_ID.search(row.get("review link", ""))
    return review_conversation(
        Review(
            tool="googleplay",
            review_id=link.group(1) if link else "",
            author=None,  # the report names no reviewer
            title=row.get("review title", ""),
            text=row.get("review text", ""),
            stars=row.get("star rating"),
            created=row.get("review submit date and time") or row.get("review submit millis since epoch"),
            reply_text=row.get("developer reply text", ""),
            reply_at=row.get("developer reply date and time") or row.get("developer reply millis since epoch"),
            product=row.get("package name") or None,
            metadata={
                "reviewer_language": row.get("reviewer language"),
                "device": row.get("device"),
                "app_version": row.get("app version name") or row.get("app version code"),
                "last_updated": row.get("review last update date and time"),
            },
        ),
        location,
    )

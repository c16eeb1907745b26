"""Social networks, review sites and Outlook messages: the formats of this family and how each is
recognised by its content.

==========================  ======================================  ==========================
format                      tool, export                            reader module
==========================  ======================================  ==========================
``reddit-json``             Reddit API listings and thread pages,   ``reddit``
                            Pushshift dumps, BDFR archives
``activity-streams-json``   Gnip / X enterprise Activity Streams    ``activity_streams``
``trustpilot-json``         Trustpilot Business Units API           ``review_sites``
``trustpilot-csv``          Trustpilot Business review export       ``review_sites``
``appstore-json``           App Store Connect customerReviews,      ``app_stores``
                            the App Store customer-reviews feed,
                            app-store-scraper output
``appstore-csv``            app-store-scraper output as CSV         ``app_stores``
``googleplay-json``         Google Play Developer API reviews,      ``app_stores``
                            google-play-scraper output
``googleplay-csv``          Play Console review reports,            ``app_stores``
                            google-play-scraper output as CSV
``outlook-msg``             Outlook .msg files                      ``outlook_msg``
==========================  ======================================  ==========================

Each module's docstring gives the shape it reads, where that shape is documented, and the mapping.
The content tests below look for key combinations (or CSV columns) that only that tool writes, so they run
before the core formats' tests without taking their files: the core ``social-csv`` reads any other
``.csv``, and the core ``social-json`` would otherwise claim Activity Streams files by the ``id_str``
of their mentions.
"""

from __future__ import annotations

import re

from vocmine.ingest.inputs.sniff import Format, Sniff
from vocmine.ingest.readers.social_networks.activity_streams import read_activity_streams
from vocmine.ingest.readers.social_networks.app_stores import (
    read_appstore_csv,
    read_appstore_json,
    read_googleplay_csv,
    read_googleplay_json,
)
from vocmine.ingest.readers.social_networks.outlook_msg import looks_like_msg, read_msg
from vocmine.ingest.readers.social_networks.reddit import read_reddit_json
from vocmine.ingest.readers.social_networks.review_sites import read_trustpilot_csv, read_trustpilot_json

_REDDIT_KIND = re.compile(rb'"kind"\s*:\s*"(?:t1|t3|more|Listing)"')
_REDDIT_FIELDS = {"subreddit", "subreddit_id", "link_id", "parent_id", "selftext", "permalink"}


def _reddit(s: Sniff) -> bool:
    keys = s.keys
    if _REDDIT_KIND.search(s.head) and keys & _REDDIT_FIELDS:
        return True
    # Pushshift: bare submissions (title, selftext) or comments (body, link_id), no "kind".
    if {"subreddit", "author", "created_utc"} <= keys and (
        {"body", "link_id"} <= keys or {"title", "selftext"} <= keys
    ):
        return True
    return {"title", "selftext", "permalink", "created_utc", "comments"} <= keys  # a BDFR archive entry


def _activity_streams(s: Sniff) -> bool:
    keys = s.keys
    # postedTime is Gnip's name (the Activity Streams spec says "published"); a replay's footer alone
    # ({"info": {"activity_count": 0}}) is an export with no activities.
    return ({"actor", "verb", "postedTime"} <= keys) or ({"info", "activity_count"} <= keys and len(keys) <= 6)


def _trustpilot_json(s: Sniff) -> bool:
    keys = s.keys
    return {"stars", "consumer"} <= keys and bool(keys & {"createdAt", "companyReply", "businessUnit"})


def _appstore_json(s: Sniff) -> bool:
    keys = s.keys
    if b'"customerReviews"' in s.head and {"attributes", "rating"} <= keys:
        return True
    if {"feed", "entry"} <= keys and bool(keys & {"im:rating", "im:version"}):
        return True
    # app-store-scraper: Python (isEdited, review) and Node (userUrl, text)
    python = {"userName", "rating", "review"} <= keys and bool(keys & {"isEdited", "date"})
    return python or {"userName", "userUrl", "score", "text"} <= keys


def _appstore_csv(s: Sniff) -> bool:
    header = set(s.csv_header)
    return {"isedited", "rating", "review", "username"} <= header or {"username", "userurl", "score", "text"} <= header


def _googleplay_json(s: Sniff) -> bool:
    keys = s.keys
    if {"reviewId", "comments"} <= keys and bool(keys & {"userComment", "developerComment"}):
        return True
    # google-play-scraper
    return {"reviewId", "content", "score"} <= keys and bool(keys & {"thumbsUpCount", "at", "reviewCreatedVersion"})


def _trustpilot_csv(s: Sniff) -> bool:
    header = set(s.csv_header)
    return (
        "review stars" in header
        and bool(header & {"review content", "review title"})
        and bool(header & {"review created (utc)", "review id", "review consumer user id"})
    )


def _googleplay_csv(s: Sniff) -> bool:
    header = set(s.csv_header)
    if {"package name", "star rating"} <= header and bool(header & {"review text", "review title"}):
        return True
    return {"reviewid", "content", "score"} <= header and bool(header & {"thumbsupcount", "at"})


def _outlook_msg(s: Sniff) -> bool:
    return looks_like_msg(s.head, s.suffix)


FORMATS: list[Format] = [
    Format(
        "outlook-msg",
        "email",
        read_msg,
        "Outlook .msg e-mail (OLE compound file, MAPI properties)",
        export="Outlook: drag a message to a folder, or File › Save As › Outlook Message Format - Unicode (*.msg)",
        detect=_outlook_msg,
        reads_bytes=True,
    ),
    Format(
        "reddit-json",
        "social",
        read_reddit_json,
        "Reddit API listings/thread pages, Pushshift dumps, BDFR archives (JSON/JSONL)",
        export="Reddit API: the JSON of /r/<subreddit>/new.json, /comments/<post id>.json or "
        "/user/<name>/comments.json; Pushshift RS_/RC_ dumps decompressed to JSON Lines",
        detect=_reddit,
    ),
    Format(
        "activity-streams-json",
        "social",
        read_activity_streams,
        "Twitter/X posts in Gnip Activity Streams format (JSONL)",
        export="X enterprise (Gnip) PowerTrack, Historical PowerTrack/Replay or Search API with "
        "format=activity-streams: the delivered JSON Lines files or Search API pages",
        detect=_activity_streams,
    ),
    Format(
        "trustpilot-json",
        "social",
        read_trustpilot_json,
        "Trustpilot reviews and company replies (Business Units API)",
        export="Trustpilot API: GET /v1/private/business-units/{businessUnitId}/reviews (each page's JSON)",
        detect=_trustpilot_json,
    ),
    Format(
        "trustpilot-csv",
        "social",
        read_trustpilot_csv,
        "Trustpilot Business review export (CSV)",
        export="Trustpilot Business: Reviews › Export reviews (CSV with 'Review Stars', 'Review Content')",
        detect=_trustpilot_csv,
    ),
    Format(
        "appstore-json",
        "social",
        read_appstore_json,
        "App Store reviews (App Store Connect API, customer-reviews feed, app-store-scraper)",
        export="App Store Connect API: GET /v1/apps/{id}/customerReviews?include=response; or the feed "
        "https://itunes.apple.com/<country>/rss/customerreviews/id=<app id>/sortBy=mostRecent/json",
        detect=_appstore_json,
    ),
    Format(
        "appstore-csv",
        "social",
        read_appstore_csv,
        "App Store reviews saved by app-store-scraper (CSV)",
        export="app-store-scraper (Python or Node): the reviews list written with pandas' to_csv or a CSV writer",
        detect=_appstore_csv,
    ),
    Format(
        "googleplay-json",
        "social",
        read_googleplay_json,
        "Google Play reviews and developer replies (Play Developer API, google-play-scraper)",
        export="Google Play Developer API: GET /androidpublisher/v3/applications/{packageName}/reviews",
        detect=_googleplay_json,
    ),
    Format(
        "googleplay-csv",
        "social",
        read_googleplay_csv,
        "Google Play Console review reports, google-play-scraper output (CSV)",
        export="Play Console: Download reports › Reviews (reviews_<package>_<YYYYMM>.csv in the "
        "pubsite_prod_… Cloud Storage bucket)",
        detect=_googleplay_csv,
    ),
]

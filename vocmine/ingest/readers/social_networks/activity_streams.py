"""Twitter/X posts in Gnip's Activity Streams format (PowerTrack, Historical PowerTrack, Replay,
30-day and Full-Archive Search).

Shape (X enterprise data dictionary, https://developer.x.com/en/docs/x-api/enterprise/data-dictionary/
activity-streams-objects/activity and .../example-payloads): one activity per line (JSON Lines, as
PowerTrack streams and Historical PowerTrack files deliver them), or a Search API answer
``{"results": [activity, …], "next": …}``, or an array::

    {"id": "tag:search.twitter.com,2005:1307025659294674945", "objectType": "activity",
     "verb": "post" | "share" | "delete", "postedTime": "2020-09-18T18:36:15.000Z",
     "actor": {"id": "id:twitter.com:2244994945", "preferredUsername": "TwitterDev", …},
     "body": "…", "long_object": {"body": "… (over 140 characters)"},
     "inReplyTo": {"link": "http://twitter.com/AcmeHelp/statuses/1307…"},
     "object": {…}, "twitter_entities": {…}, "gnip": {"matching_rules": [{"tag": …}]}}

Mapping: a post becomes the same ``ThreadMessage`` the core Twitter reader makes (``social.social_post``):
key ``tweet:<id>``, its parent from ``inReplyTo.link``, so Gnip activities and API v1.1/v2 tweets of
one thread join each other; the author is ``actor.preferredUsername``, the agent when it is one of the
``brand_accounts``; the text is ``long_object.body`` when the post was long, else ``body``; the
matching rules' tags become the ``gnip_rules`` metadata.

Not posts, so rejected with a reason: retweets (``verb: "share"``) and old-style manual retweets
("RT @user: …" with nothing of the author's own before it) carry someone else's words, not new
customer voice; ``delete`` compliance activities carry no text; stream system messages
(``{"error": …}``).

Historical PowerTrack and Replay files end with a footer line ``{"info": {"message": "Replay Request
Completed", "sent": …, "activity_count": N}}``. The footer is not a record: it yields nothing when the
activities read before it number N, and one rejection saying how many are missing when they do not
(a truncated download), so a file that lost activities is never reported as complete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.readers.social import is_manual_retweet, social_post
from vocmine.ingest.readers.social_networks.social_common import parse_time
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, ThreadMessage

_STATUS_LINK = re.compile(r"/status(?:es)?/(\d+)")
_TRAILING_ID = re.compile(r"(\d+)$")


def read_activity_streams(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    since_footer = 0  # activities (and unreadable lines) since the last footer
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            since_footer += 1
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and isinstance(value.get("info"), dict):
            yield from _footer(value["info"], since_footer, record.location)
            since_footer = 0
        elif isinstance(value, dict) and isinstance(value.get("results"), list):  # Search API page
            for i, activity in enumerate(value["results"]):
                yield _activity(activity, Location(ctx.name, f"{record.location.position}, results[{i}]"), ctx)
        else:
            since_footer += 1
            yield _activity(value, record.location, ctx)


def _footer(info: dict[str, Any], read: int, location: Location) -> Iterator[Rejection]:
    expected = info.get("activity_count")
    if isinstance(expected, str) and expected.isdigit():
        expected = int(expected)
    if isinstance(expected, int) and not isinstance(expected, bool) and expected != read:
        yield Rejection(
            location,
            f"the export's footer says {expected} activities were sent but {read} were found before it: "
            "the file is incomplete (download it again)",
        )


def _activity(value: Any, location: Location, ctx: ReadContext) -> Item:
    if not isinstance(value, dict):
        return Rejection(location, f"expected an activity object, found {type(value).__name__}")
    if isinstance(value.get("error"), dict):
        return Rejection(location, f"stream system message, not a post: {str(value['error'].get('message'))[:200]}")
    verb = value.get("verb")
    if verb == "share":
        return Rejection(location, "retweet (verb 'share'): carries no text of its own")
    if verb == "delete":
        return Rejection(location, "compliance notice (verb 'delete'): a post was deleted, no text")
    if verb not in (None, "post"):
        return Rejection(location, f"activity verb {str(verb)[:20]!r} is not a post")
    text = _text(value)
    if is_manual_retweet(text):
        return Rejection(location, 'retweet (a manual "RT" copy of another post): carries no text of its own')
    try:  # social.social_post reads the time too, but only a ValueError is a rejection there
        parse_time(value.get("postedTime"))
    except ValueError as exc:
        return Rejection(location, str(exc))
    actor: dict[str, Any] = value["actor"] if isinstance(value.get("actor"), dict) else {}
    item = social_post(
        post_id=_post_id(value),
        author=str(actor.get("preferredUsername") or _trailing_id(actor.get("id")) or ""),
        text=text,
        created_at=value.get("postedTime"),
        parent=_status_id(_link(value.get("inReplyTo"))),
        is_brand=None,
        location=location,
        ctx=ctx,
        source="gnip",
    )
    if isinstance(item, ThreadMessage):
        tags = _rule_tags(value.get("gnip"))
        if tags:
            item.metadata["gnip_rules"] = tags
    return item


def _text(value: dict[str, Any]) -> str:
    long_object = value.get("long_object")
    if isinstance(long_object, dict) and long_object.get("body"):
        return str(long_object["body"])
    if value.get("body"):
        return str(value["body"])
    note = value.get("object")
    return str(note.get("summary") or note.get("content") or "") if isinstance(note, dict) else ""


def _post_id(value: dict[str, Any]) -> str:
    """The post's numeric id: from the activity's IRI, else its object's, else its link."""
    note: dict[str, Any] = value["object"] if isinstance(value.get("object"), dict) else {}
    for candidate in (value.get("id"), note.get("id")):
        found = _trailing_id(candidate)
        if found:
            return found
    return _status_id(value.get("link")) or ""


def _trailing_id(value: Any) -> str | None:
    match = _TRAILING_ID.search(str(value or ""))
    return match.group(1) if match else None


def _link(value: Any) -> Any:
    return value.get("link") if isinstance(value, dict) else None


def _status_id(link: Any) -> str | None:
    match = _STATUS_LINK.search(str(link or ""))
    return match.group(1) if match else None


def _rule_tags(gnip: Any) -> list[str]:
    rules = gnip.get("matching_rules") if isinstance(gnip, dict) else None
    if not isinstance(rules, list):
        return []
    tags = (str(r["tag"]) for r in rules if isinstance(r, dict) and r.get("tag"))
    return list(dict.fromkeys(tags))

"""Social networks, review sites and Outlook .msg: detection by content, mapping, rejections."""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import detect_format
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.readers import mail
from vocmine.ingest.readers.social import is_manual_retweet
from vocmine.ingest.readers.social_networks import FORMATS
from vocmine.ingest.records import ReadContext, Rejection, ThreadMessage
from vocmine.schema import Conversation
from vocmine.settings import Settings

HERE = DATA / "social_networks"
SETTINGS = Settings(company_domains=["acme-shop.com"], brand_accounts=["AcmeHelp"])

FILES = {
    "reddit_listing.json": "reddit-json",
    "reddit_thread.json": "reddit-json",
    "pushshift_submissions.jsonl": "reddit-json",
    "pushshift_comments.jsonl": "reddit-json",
    "gnip_replay.json": "activity-streams-json",
    "trustpilot_reviews.json": "trustpilot-json",
    "trustpilot_export.csv": "trustpilot-csv",
    "appstore_customer_reviews.json": "appstore-json",
    "appstore_rss_feed.json": "appstore-json",
    "googleplay_reviews.json": "googleplay-json",
    "reviews_com.acmeshop.app_202403.csv": "googleplay-csv",
    "outlook_customer.msg": "outlook-msg",
    "outlook_agent_reply.msg": "outlook-msg",
    "outlook_contact.msg": "outlook-msg",
    "bdfr_1c0abcd.json": "reddit-json",
    "google_play_scraper_reviews.json": "googleplay-json",
    "google_play_scraper_reviews.csv": "googleplay-csv",
    "app_store_scraper_reviews.csv": "appstore-csv",
}

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@functools.cache
def _make_msg() -> ModuleType:
    """The .msg writer script in tests/tools (a script, not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location("social_networks_make_msg", TOOLS / "make_msg.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def read(name: str, data: bytes | None = None, settings: Settings = SETTINGS) -> list[object]:
    """Every item the detected reader makes of a file (or of ``data`` under its name)."""
    data = (HERE / name).read_bytes() if data is None else data
    fmt = detect_format(name, data[:65536])
    assert fmt is not None, name
    return list(fmt.reader(io.BytesIO(data), ReadContext(name, settings)))


def rejections(items: list[object]) -> dict[str, str]:
    return {i.location.position: i.reason for i in items if isinstance(i, Rejection)}


def messages(items: list[object]) -> list[ThreadMessage]:
    return [i for i in items if isinstance(i, ThreadMessage)]


def conversations(items: list[object]) -> list[Conversation]:
    return [i for i in items if isinstance(i, Conversation)]


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("name", "expected"), sorted(FILES.items()))
@pytest.mark.parametrize("given_name", ["own", "export.txt", "download"])
def test_each_file_is_detected_by_its_content(name, expected, given_name):
    data = (HERE / name).read_bytes()[:65536]
    if given_name == "own":
        given_name = name
    if expected == "outlook-msg" and given_name == "export.txt":
        given_name = "export.bin"  # an OLE file is found by its streams, whatever its name
    found = detect_format(given_name, data)
    assert found is not None and found.name == expected


def test_no_other_test_file_is_taken_by_this_family():
    for path in sorted(DATA.rglob("*")):
        if path.is_file() and path.parent != HERE:
            sniff = Sniff(path.name.lower(), path.read_bytes()[:65536])
            assert [f.name for f in FORMATS if f.detect and f.detect(sniff)] == [], path


def test_other_ole_files_are_not_outlook_messages():
    word_like = _make_msg().compound_file([_make_msg().Node("WordDocument", b"\x00" * 600)])
    assert detect_format("report.doc", word_like) is None
    assert detect_format("report.msg", word_like).name == "outlook-msg"  # type: ignore[union-attr]  # named so
    [item] = read("report.msg", word_like)
    assert isinstance(item, Rejection) and "no sender, Message-ID or subject" in item.reason


def test_twitter_v1_and_v2_files_stay_with_the_core_reader():
    assert detect_format("v1.jsonl", (DATA / "social" / "v1.jsonl").read_bytes()).name == "social-json"  # type: ignore[union-attr]
    assert detect_format("p.csv", (DATA / "social" / "twcs_like.csv").read_bytes()).name == "social-csv"  # type: ignore[union-attr]


def test_every_format_has_an_export_text_and_a_content_test():
    assert {f.name for f in FORMATS} == set(FILES.values())
    assert all(f.export and f.detect for f in FORMATS)


# ---------------------------------------------------------------- Reddit


def test_reddit_thread_page_roles_keys_and_rejections():
    items = read("reddit_thread.json")
    posts = messages(items)
    assert [m.turn.role for m in posts] == ["customer", "bot", "customer", "agent", "customer", "customer", "system"]
    post, automod, _update, brand, op_again, _other, moderator = posts
    assert post.key == "reddit:t3_1b7xk2q" and post.parent_keys == []
    assert post.subject == "Charged twice for one order"
    assert post.turn.text.startswith("Charged twice for one order\n\nI paid for order 48877")
    assert post.metadata == {"subreddit": "AcmeShop", "reddit_flair": "Billing"}
    # a nested reply names its post first, then its parent: the thread's root is the post
    assert brand.parent_keys == ["reddit:t3_1b7xk2q", "reddit:t1_ktq1a02"]
    assert op_again.parent_keys == ["reddit:t3_1b7xk2q", "reddit:t1_ktq2b11"]
    assert brand.brand == "AcmeHelp" and brand.customer_id is None
    assert post.customer_id == "marisol_b" and automod.turn.speaker == "AutoModerator"
    assert moderator.turn.speaker == "moderator" and moderator.customer_id is None  # not the volunteer's name
    assert post.turn.timestamp.isoformat() == "2024-03-04T12:00:00+00:00"  # type: ignore[union-attr]
    reasons = sorted(rejections(items).values())
    assert reasons[0].startswith("'more' stub: 3 comment(s)")
    assert reasons[1] == "comment deleted by its author ([deleted]): no text left"
    assert len(items) == 9  # every post, comment and stub accounted for


def test_reddit_listing_keeps_titles_of_removed_posts_and_rejects_other_things():
    items = read("reddit_listing.json")
    by_key = {m.key: m for m in messages(items)}
    assert by_key["reddit:t3_1b89e33"].turn.text == "Refund taking forever - is this normal?"  # body "[removed]"
    assert by_key["reddit:t3_1b8a9f1"].turn.text == "Acme Shop app keeps logging me out after the last update"
    announcement = by_key["reddit:t3_1b88aa0"]  # the brand's own post: distinguished, but the brand first
    assert announcement.turn.role == "agent" and announcement.brand == "AcmeHelp"
    assert list(rejections(items).values()) == ["not a Reddit post or comment (kind 't5')"]


def test_reddit_brand_accounts_may_be_written_with_u_prefix():
    settings = Settings(brand_accounts=["u/AcmeHelp"])
    items = read("pushshift_comments.jsonl", settings=settings)
    assert messages(items)[0].turn.role == "agent"


def test_pushshift_dumps_thread_across_files(ingest, store):
    report = ingest(HERE / "pushshift_comments.jsonl", HERE / "pushshift_submissions.jsonl")
    assert report.records_read == 7 and report.records_rejected == 3
    reasons = sorted(r["reason"] for r in report.rejection_samples)
    assert reasons == [
        "comment removed by the moderators ([removed]): no text left",
        "post has neither a title nor a body",
        "unrecognised time stamp 'last tuesday'",
    ]
    by_subject = {c.subject: c for c in store.iter_conversations()}
    shoes = by_subject["Wrong size sent twice"]
    assert [t.role for t in shoes.turns] == ["customer", "agent", "customer"]
    assert shoes.brand == "AcmeHelp" and shoes.metadata == {"subreddit": "AcmeShop", "reddit_flair": "Returns"}
    assert shoes.customer_id and shoes.customer_id.startswith("cust-")  # the author, pseudonymised
    voucher = by_subject["Voucher code not working at checkout"]  # deleted account, body deleted: title kept
    assert voucher.customer_id is None and voucher.turns[0].text == "Voucher code not working at checkout"


def test_reddit_thread_id_comes_from_the_post_whichever_file_comes_first(ingest, store, tmp_path):
    ingest(HERE / "pushshift_submissions.jsonl")
    [first] = [c for c in store.iter_conversations() if c.subject == "Wrong size sent twice"]
    ingest(HERE / "pushshift_comments.jsonl")
    [merged] = [c for c in store.iter_conversations() if c.subject == "Wrong size sent twice"]
    assert merged.id == first.id and len(merged.turns) == 3


def test_reddit_more_children_answer_and_pushshift_api_page():
    answer = {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {
        "id": "x1", "name": "t1_x1", "author": "a", "body": "late again", "created_utc": 1709000000,
        "parent_id": "t1_p", "link_id": "t3_l", "subreddit": "AcmeShop"}}]}}}  # fmt: skip
    page = {"data": [{"id": "x2", "author": "b", "body": "same", "created_utc": 1709000001, "link_id": "t3_l",
                      "parent_id": "t3_l", "subreddit": "AcmeShop"}]}  # fmt: skip
    data = (json.dumps(answer) + "\n" + json.dumps(page) + "\n").encode()
    items = read("more.json", data)
    assert [m.key for m in messages(items)] == ["reddit:t1_x1", "reddit:t1_x2"]


def test_bdfr_archive_with_nested_comment_lists():
    items = read("bdfr_1c0abcd.json")
    post, brand, deleted_account = messages(items)
    assert post.key == "reddit:t3_1c0abcd" and post.turn.role == "customer" and post.subject
    assert brand.turn.role == "agent" and brand.parent_keys == ["reddit:t3_1c0abcd"]  # from "submission"
    assert deleted_account.parent_keys == ["reddit:t3_1c0abcd", "reddit:t1_kx10001"]
    assert deleted_account.customer_id is None and deleted_account.turn.speaker is None  # "DELETED"
    assert list(rejections(items).values()) == ["comment removed by the moderators ([removed]): no text left"]


# ---------------------------------------------------------------- Gnip Activity Streams


def test_activity_streams_thread_long_text_retweets_and_footer():
    items = read("gnip_replay.json")
    posts = messages(items)
    assert [(m.key, m.turn.role) for m in posts] == [
        ("tweet:1765000000000000001", "customer"),
        ("tweet:1765000000000000002", "agent"),
        ("tweet:1765000000000000003", "customer"),
        ("tweet:1765000000000000005", "customer"),
    ]
    assert posts[1].parent_keys == ["tweet:1765000000000000001"] and posts[1].brand == "AcmeHelp"
    assert posts[2].turn.text.endswith("I have been waiting since the 1st.")  # long_object.body, not the cut body
    assert posts[0].metadata == {"gnip_rules": ["acme_support"]}
    assert posts[0].source == "gnip" and posts[0].customer_id == "jordan_k"
    assert sorted(rejections(items).values()) == [
        'retweet (a manual "RT" copy of another post): carries no text of its own',
        "retweet (verb 'share'): carries no text of its own",
        "unrecognised time stamp 'yesterday evening'",
    ]
    assert len(items) == 7  # the footer's activity_count (7) matches: the footer itself is no record


def test_activity_streams_footer_reports_missing_activities():
    lines = (HERE / "gnip_replay.json").read_bytes().splitlines(keepends=True)
    truncated = b"".join(lines[:2] + lines[-2:])  # two activities, then the footer that says seven
    items = read("gnip_replay.json", truncated)
    assert len(messages(items)) == 2
    [reason] = rejections(items).values()
    assert reason.startswith("the export's footer says 7 activities were sent but 2 were found")


def test_activity_streams_search_api_page_and_empty_replay():
    activity = json.loads((HERE / "gnip_replay.json").read_bytes().splitlines()[0])
    page = json.dumps({"results": [activity], "next": "eyJtYXhJZCI6MTc2NX0=", "requestParameters": {}}).encode()
    [message] = read("search.json", page)
    assert isinstance(message, ThreadMessage) and message.key == "tweet:1765000000000000001"
    empty = (
        b'{"info": {"message": "Replay Request Completed", "sent": "2024-03-07T00:05:12+00:00", "activity_count": 0}}\n'
    )
    assert detect_format("replay.json", empty).name == "activity-streams-json"  # type: ignore[union-attr]
    assert read("replay.json", empty) == []


def test_activity_streams_join_twitter_api_threads(ingest, store, tmp_path):
    """A v1.1 tweet answering a Gnip activity lands in the same conversation (both key tweets by id)."""
    v1 = {"id_str": "1765000000000000009", "created_at": "Wed Mar 06 09:30:00 +0000 2024",
          "text": "@jordan_k claim opened, a new parcel goes out today. ^MB", "user": {"screen_name": "AcmeHelp"},
          "in_reply_to_status_id_str": "1765000000000000003"}  # fmt: skip
    path = tmp_path / "v1.jsonl"
    path.write_text(json.dumps(v1) + "\n")
    ingest(HERE / "gnip_replay.json", path)
    jordan = [c for c in store.iter_conversations() if len(c.turns) > 1]
    assert len(jordan) == 1
    assert [t.role for t in jordan[0].turns] == ["customer", "agent", "customer", "agent"]


def test_manual_retweets_are_told_from_comments_on_them():
    assert is_manual_retweet("RT @AcmeHelp: Storms closed our Leeds depot")
    assert is_manual_retweet("  RT @jordan_k parcel late")
    assert not is_manual_retweet("Same here! RT @jordan_k: parcel late")
    assert not is_manual_retweet("RTFM @AcmeHelp")


# ---------------------------------------------------------------- Trustpilot


def test_trustpilot_api_reviews_become_conversations_with_replies_and_csat():
    items = read("trustpilot_reviews.json")
    sofa, jacket, billed = conversations(items)
    assert sofa.id == "trustpilot-65e6f0a1b2c3d4e5f6a7b801" and sofa.source == "trustpilot"
    assert sofa.channel == "social" and sofa.survey and sofa.survey.csat == 1
    assert [t.role for t in sofa.turns] == ["customer", "agent"]
    assert sofa.turns[0].text.startswith("Still waiting after two weeks\n\nOrdered a sofa")
    assert sofa.turns[1].speaker == "Tom Reyes" and sofa.agent_id == "5e0b1c2d3e4f5a6b7c8d9e01"
    assert sofa.customer_id == "5f1a2b3c4d5e6f7a8b9c0d11" and sofa.turns[0].speaker == "Harriet Okafor"
    assert sofa.brand == "Acme Shop" and sofa.language == "en" and sofa.subject == "Still waiting after two weeks"
    assert sofa.metadata == {
        "status": "active",
        "verified": True,
        "reference_id": "ORD-50412",
        "tags": ["category:delivery"],
    }
    assert sofa.started_at.isoformat() == "2024-03-05T18:22:41+00:00"  # type: ignore[union-attr]
    assert sofa.ended_at.isoformat() == "2024-03-06T09:15:03+00:00"  # type: ignore[union-attr]
    assert len(jacket.turns) == 1 and jacket.survey and jacket.survey.csat == 5
    assert "£34.50 was still taken" in billed.turns[0].text  # the HTML body rendered
    assert billed.language == "en"  # "en-GB": the language without the region
    assert billed.turns[1].speaker == "Acme Shop"  # a reply without its author speaks for the brand
    assert list(rejections(items).values()) == ["rating only: the review has no title or text"]


def test_trustpilot_csv_export():
    items = read("trustpilot_export.csv")
    rain, smooth, price = conversations(items)
    assert rain.id == "trustpilot-65e6f0a1b2c3d4e5f6a7c901"
    assert rain.turns[0].text == (
        "Courier left my parcel in the rain\n\nThe box was soaked and the blender inside had water in it.\n"
        "I want a replacement, not a voucher."
    )
    assert [t.role for t in rain.turns] == ["customer", "agent"]
    assert rain.turns[1].timestamp.isoformat() == "2024-03-06T09:40:00+00:00"  # type: ignore[union-attr]
    assert rain.metadata == {"review_source": "AFSv2", "tags": ["delivery", "damaged"]}
    assert rain.brand == "Acme Shop" and rain.customer_id == "5f1a2b3c4d5e6f7a8b9c0d21"
    assert smooth.survey and smooth.survey.csat == 5 and smooth.metadata["location"] == "Leeds store"
    assert len(price.turns) == 1
    assert rejections(items) == {"line 6": "star rating is not a number: 'five'"}


def test_trustpilot_csv_without_stars_column_is_rejected_once():
    data = b"Review Id,Review Title,Review Content,Review Created (UTC)\n1,a,b,2024-01-01\n"
    fmt = next(f for f in FORMATS if f.name == "trustpilot-csv")
    items = list(fmt.reader(io.BytesIO(data), ReadContext("t.csv", SETTINGS)))
    assert rejections(items) == {"line 1": "CSV lacks the columns (review stars)"}


# ---------------------------------------------------------------- App Store


def test_app_store_connect_reviews_with_included_responses():
    items = read("appstore_customer_reviews.json")
    crash, late, scan = conversations(items)
    assert crash.id == "appstore-00000041-a1b2-0007-aaaa-e1f2a3b4c501" and crash.product == "1490001234"
    assert [t.role for t in crash.turns] == ["customer", "agent"]
    assert crash.turns[1].text.startswith("Thanks for letting us know. Version 7.4.1")
    assert crash.metadata == {"territory": "USA", "response_state": "PUBLISHED"}
    assert crash.turns[0].timestamp.isoformat() == "2024-03-06T05:14:09+00:00"  # type: ignore[union-attr]
    assert crash.customer_id == "tired_of_retrying" and crash.survey and crash.survey.csat == 1
    assert late.subject is None and late.turns[0].text.startswith("Handy for tracking")
    assert len(scan.turns) == 1
    assert rejections(items) == {"line 1, data[3]": "unrecognised time stamp 'last week'"}


def test_app_store_feed_skips_the_app_entry_and_names_the_product():
    items = read("appstore_rss_feed.json")
    slot, best, promo = conversations(items)
    assert slot.id == "appstore-10873400112" and slot.product == "Acme Shop"
    assert slot.metadata == {"app_version": "7.4.0", "territory": "GB"}
    assert best.turns[0].text == "Best grocery app" and best.survey and best.survey.csat == 5  # no content
    assert promo.started_at.isoformat() == "2024-03-04T16:05:31+00:00"  # type: ignore[union-attr]
    assert rejections(items) == {"line 1, entry[4]": "star rating must be 1–5, found '0'"}
    assert len(items) == 4  # the app's own entry is no review and no record


def test_app_store_feed_with_a_single_entry_object():
    feed = json.loads((HERE / "appstore_rss_feed.json").read_text())
    feed["feed"]["entry"] = feed["feed"]["entry"][1]
    [review] = read("one.json", json.dumps(feed).encode())
    assert isinstance(review, Conversation) and review.product == "1490001234"  # from the feed's URL


# ---------------------------------------------------------------- Google Play


def test_google_play_api_reviews():
    items = read("googleplay_reviews.json")
    login, slots, eggs = conversations(items)
    assert login.id == "googleplay-gp:AOqpTOGk3v0nQ1xR8yZ_acme001" and login.source == "googleplay"
    assert login.subject == "Can't log in"
    assert login.turns[0].text.startswith("Can't log in\n\nSince yesterday's update")
    assert [t.role for t in login.turns] == ["customer", "agent"]
    assert login.turns[0].timestamp.isoformat() == "2024-03-06T10:13:20.412000+00:00"  # type: ignore[union-attr]
    assert login.language is None and login.metadata["reviewer_language"] == "it_IT"  # the device's setting
    assert login.metadata["thumbs_up"] == 14 and login.metadata["app_version"] == "7.4.0"
    assert slots.customer_id is None  # "A Google user" names no one
    assert slots.metadata["device"] == "Galaxy A54 5G"
    assert eggs.subject is None and eggs.turns[0].text.startswith("Refund for the missing eggs")  # "\t" + body
    assert rejections(items) == {"line 1, reviews[2]": "rating only: the review has no title or text"}


def test_google_play_console_csv():
    items = read("reviews_com.acmeshop.app_202403.csv")
    payment, gute, oat = conversations(items)
    assert payment.id == "googleplay-e1c0a5f1-3b7d-4a5e-9e11-acme0001" and payment.product == "com.acmeshop.app"
    assert [t.role for t in payment.turns] == ["customer", "agent"]
    assert payment.turns[1].timestamp.isoformat() == "2024-03-06T08:00:12+00:00"  # type: ignore[union-attr]
    assert gute.subject == "Gute App" and gute.survey and gute.survey.csat == 4
    assert oat.metadata["device"] == "oriole"
    assert rejections(items) == {"line 4": "rating only: the review has no title or text"}


def test_google_play_csv_in_utf16_as_play_writes_it(ingest, store, tmp_path):
    path = tmp_path / "reviews_com.acmeshop.app_202403.csv"
    path.write_bytes((HERE / "reviews_com.acmeshop.app_202403.csv").read_text().encode("utf-16"))
    report = ingest(path)
    assert report.records_stored == 3 and report.records_rejected == 1, report.rejection_samples


@pytest.mark.parametrize("name", ["google_play_scraper_reviews.json", "google_play_scraper_reviews.csv"])
def test_google_play_scraper_output(name):
    items = read(name)
    checkout, frozen = conversations(items)
    assert checkout.id == "googleplay-9f1d2c3b-aaaa-4bbb-8ccc-000000000001" and checkout.customer_id == "Nadia H"
    assert [t.role for t in checkout.turns] == ["customer", "agent"] and checkout.survey and checkout.survey.csat == 3
    assert checkout.turns[1].timestamp.isoformat() == "2024-03-06T09:00:00+00:00"  # type: ignore[union-attr]
    assert checkout.metadata["app_version"] == "7.4.0" and str(checkout.metadata["thumbs_up"]) == "7"
    assert len(frozen.turns) == 1
    assert list(rejections(items).values()) == ["rating only: the review has no title or text"]


def test_app_store_scraper_csv_and_json():
    items = read("app_store_scraper_reviews.csv")
    basket, reliable = conversations(items)
    assert basket.id.startswith("social-")  # no review id in the scraper's output: a content hash
    assert [t.role for t in basket.turns] == ["customer", "agent"]  # the response, from the dict pandas wrote
    assert basket.turns[1].text.startswith("Fixed in 7.4.1") and basket.survey and basket.survey.csat == 2
    assert basket.turns[0].text.startswith("Basket emptied itself\n\nAdded 14 items")
    assert basket.metadata == {"edited": False} and reliable.metadata == {"edited": True}
    assert list(rejections(items).values()) == ["rating only: the review has no title or text"]
    python = {"date": "2024-03-05 21:14:09", "isEdited": False, "rating": 2, "title": "Basket"}
    python |= {"review": "Empty again.", "userName": "jo"}
    python["developerResponse"] = {"id": 1, "body": "Fixed!", "modified": "2024-03-07T10:00:00Z"}
    node = {"id": "10873999999", "userName": "pat", "userUrl": "https://itunes.apple.com/gb/reviews/id12345"}
    node |= {"version": "7.4.0", "score": 4, "title": "Good app", "text": "Quick to reorder my usual shop."}
    node |= {"updated": "2024-03-04T09:00:00-07:00"}
    [from_python] = read("python.json", json.dumps([python]).encode())
    assert isinstance(from_python, Conversation) and from_python.turns[1].text == "Fixed!"
    [from_node] = read("node.json", json.dumps([node]).encode())
    assert isinstance(from_node, Conversation) and from_node.id == "appstore-10873999999"
    assert from_node.metadata == {"app_version": "7.4.0"} and from_node.survey and from_node.survey.csat == 4


# ---------------------------------------------------------------- Outlook .msg


def test_committed_msg_files_are_what_the_script_writes():
    make_msg = _make_msg()
    for name, build in make_msg.FILES.items():
        assert (HERE / name).read_bytes() == build(), name


def test_msg_gives_the_thread_message_the_eml_reader_gives():
    make_msg = _make_msg()
    headers = make_msg.CUSTOMER_HEADERS.split("\r\n", 1)[1].replace(
        'multipart/alternative; boundary="b1"', "text/plain"
    )
    eml = (headers + "\r\n" + make_msg.CUSTOMER_BODY).encode()
    [from_eml] = mail.read_eml(io.BytesIO(eml), ReadContext("c.eml", SETTINGS))
    [from_msg] = read("outlook_customer.msg")
    assert isinstance(from_eml, ThreadMessage) and isinstance(from_msg, ThreadMessage)
    assert from_msg.source == "outlook-msg"
    for field in ("key", "parent_keys", "subject", "fallback_thread", "customer_id", "channel", "metadata"):
        assert getattr(from_msg, field) == getattr(from_eml, field), field
    assert from_msg.turn == from_eml.turn
    assert from_msg.turn.role == "customer" and from_msg.turn.text.endswith("My card statement shows both.")


def test_msg_from_sent_items_uses_mapi_properties():
    [reply] = read("outlook_agent_reply.msg")
    assert isinstance(reply, ThreadMessage)
    assert reply.turn.role == "agent" and reply.turn.speaker == "marco.bellini"  # SMTP, not the X.500 DN
    assert reply.customer_id == "dana.whitfield@example.net"  # the To recipient
    [customer] = read("outlook_customer.msg")
    assert isinstance(customer, ThreadMessage) and reply.parent_keys == [customer.key]
    assert reply.turn.text.startswith("Hallo Dana,\n\ndésolé for the trouble")  # Windows-1252 HTML body
    assert "From: Dana Whitfield" not in reply.turn.text and "From: Dana Whitfield" in (reply.turn.raw_text or "")
    assert reply.turn.timestamp.isoformat() == "2024-03-04T11:05:02+00:00"  # type: ignore[union-attr]
    assert reply.subject == "RE: Charged twice for order 48213" and reply.metadata == {"is_reply": True}


def test_msg_files_thread_into_one_email_conversation(ingest, store):
    report = ingest(HERE / "outlook_customer.msg", HERE / "outlook_agent_reply.msg", HERE / "outlook_contact.msg")
    assert report.records_read == 3 and report.records_rejected == 1
    assert report.rejection_samples[0]["reason"] == "not an e-mail: an Outlook item of class 'IPM.Contact'"
    [conversation] = list(store.iter_conversations())
    assert conversation.channel == "email" and conversation.source == "outlook-msg"
    assert [t.role for t in conversation.turns] == ["customer", "agent"]
    assert conversation.subject == "Charged twice for order 48213"


def test_msg_rejections_name_the_problem():
    make_msg = _make_msg()
    rtf_only = make_msg.message({0x001A: "IPM.Note", 0x0037: "Hello", 0x0C1F: "a@example.net", 0x1009: b"LZFu...."})
    assert rejections(read("rtf.msg", rtf_only)) == {
        "file": "the body is only compressed RTF, which vocmine does not read"
    }
    empty = make_msg.message({0x001A: "IPM.Note", 0x0037: "Hello", 0x0C1F: "a@example.net"})
    assert rejections(read("e.msg", empty)) == {"file": "message has no text body (attachments only or empty)"}
    report = make_msg.message({0x001A: "REPORT.IPM.Note.NDR", 0x0037: "Undeliverable", 0x1000: "failed"})
    assert "REPORT.IPM.Note.NDR" in rejections(read("ndr.msg", report))["file"]
    customer = (HERE / "outlook_customer.msg").read_bytes()
    for cut in (1500, 3000, len(customer) // 2):
        [truncated] = read("cut.msg", customer[:cut])
        assert isinstance(truncated, Rejection) and truncated.reason.startswith("unreadable Outlook .msg file"), cut
    [corrupt] = read("bad.msg", customer[:512] + b"\xff" * (len(customer) - 512))
    assert isinstance(corrupt, Rejection) and corrupt.reason.startswith("unreadable Outlook .msg file")


# ---------------------------------------------------------------- robustness, end to end


@pytest.mark.parametrize("name", sorted(FILES))
def test_truncated_files_never_raise(name):
    data = (HERE / name).read_bytes()
    fmt = detect_format(name, data[:65536])
    assert fmt is not None
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 7):
        items = list(fmt.reader(io.BytesIO(data[:cut]), ReadContext(name, SETTINGS)))
        assert items, (name, cut)
        assert all(isinstance(i, Conversation | ThreadMessage | Rejection) for i in items)


ODD_VALUES = [None, 0, -1, 1.5, True, "", "[deleted]", [], {}, [1], {"label": None}, "9" * 25, {"seconds": "x"}, "\t"]


def _mutate(value: object, rnd: random.Random) -> object:
    """The same record with some fields dropped or given a value of the wrong type, as real exports
    (older API versions, other tools' writers) have them."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rnd.random()
            if roll < 0.1:
                continue
            out[key] = rnd.choice(ODD_VALUES) if roll < 0.25 else _mutate(item, rnd)
        return out
    if isinstance(value, list):
        return [_mutate(item, rnd) for item in value if rnd.random() > 0.1]
    return value


@pytest.mark.parametrize("name", sorted(n for n in FILES if n.endswith((".json", ".jsonl"))))
def test_fields_of_the_wrong_type_are_rejected_not_raised(name):
    text = (HERE / name).read_text()
    lines = text.splitlines() if name.endswith("jsonl") or name.startswith("gnip") else [text]
    records = [json.loads(line) for line in lines if line.strip()]
    fmt = detect_format(name, text.encode())
    assert fmt is not None
    rnd = random.Random(name)
    for _ in range(60):
        data = "\n".join(json.dumps(_mutate(record, rnd)) for record in records).encode()
        items = list(fmt.reader(io.BytesIO(data), ReadContext(name, SETTINGS)))
        assert all(isinstance(i, Conversation | ThreadMessage | Rejection) for i in items)


def test_every_data_file_ingests_with_nothing_unrecognised(ingest, store):
    # The folder also holds SOURCES.md and make_msg.py, which are not exports.
    report = ingest(*(HERE / name for name in sorted(FILES)))
    reasons = [r["reason"] for r in report.rejection_samples]
    assert not any("not recognised" in r for r in reasons), reasons
    assert report.files_read == len(FILES) and report.accounted()
    assert report.records_rejected == 20  # the bad records each file holds on purpose
    # 24 reviews and 24 posts, comments and e-mails; the scraper's JSON and CSV hold the same two
    # reviews, whose ids say so: the second copy is a duplicate, not a new conversation.
    assert report.records_stored == 46 and report.records_duplicate == 2
    assert len(list(store.iter_conversations())) == 33  # 22 reviews, 11 threads


def test_a_utf8_bom_is_tolerated():
    data = b"\xef\xbb\xbf" + (HERE / "trustpilot_reviews.json").read_bytes()
    assert len(conversations(read("bom.json", data))) == 3
    csv_data = b"\xef\xbb\xbf" + (HERE / "trustpilot_export.csv").read_bytes()
    assert len(conversations(read("bom.csv", csv_data))) == 3


def test_detection_tolerates_paths(tmp_path: Path):
    assert detect_format(
        str(tmp_path / "Inbox" / "Re: order.MSG"), (HERE / "outlook_customer.msg").read_bytes()[:65536]
    )

"""The console's review queue and review item pages, as a quality reviewer works them."""

from __future__ import annotations

import re

from tests.api_routes.conftest import auth, sign_in_console


def sign_in_reviewer(client, token: str, tz: str = "UTC") -> str:
    """Sign in with a key that holds the review scope only (as a quality reviewer's key may): the
    shared helper lands on /preferences, which needs the read scope, so this one lands on /review.
    Returns the CSRF token."""
    answer = client.post("/sign-in", data={"key": token, "next": "/review", "tz": tz})
    assert answer.status_code == 200, answer.text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', answer.text)
    assert found
    return found.group(1)


def _queue_ids(html: str) -> list[str]:
    return re.findall(r'class="item-link" href="/review/([^?"]+)', html)


def _revision(html: str) -> int:
    found = re.search(r'name="revision" value="(\d+)"', html)
    assert found, "the item page's forms carry the revision"
    return int(found.group(1))


def _audit_rows(html: str) -> list[str]:
    table = html.split('class="audit"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return [f"{who} | {what}" for _, who, what in rows]


def test_the_queue_lists_flagged_conversations_most_severe_first_with_reasons(client, tokens):
    sign_in_reviewer(client, tokens["review"])
    page = client.get("/review")
    assert page.status_code == 200
    # "a" has an escalation (severity 5), "c" a churn risk (3); "b" and "d" have no flag.
    assert _queue_ids(page.text) == ["a", "c"]
    assert "<strong>2</strong> conversations in the queue" in page.text
    assert "<strong>escalation</strong> (5): because" in page.text
    # The evidence snippet: the sentence, with the flag's words marked.
    assert '<blockquote class="snippet"><mark>my </mark>bill is wrong again</blockquote>' in page.text
    assert "Keyboard:" in page.text and "review.js" in page.text


def test_queue_filters(client, tokens):
    sign_in_reviewer(client, tokens["review"])
    assert _queue_ids(client.get("/review", params={"min_severity": "5"}).text) == ["a"]
    assert _queue_ids(client.get("/review", params={"flag": "churn_risk"}).text) == ["c"]
    assert _queue_ids(client.get("/review", params={"channel": "email"}).text) == []
    resolved = client.get("/review", params={"status": "resolved"})
    assert _queue_ids(resolved.text) == [] and "Nothing in the queue for these filters" in resolved.text
    assert _queue_ids(client.get("/review", params={"assignee": "mine"}).text) == []
    assert _queue_ids(client.get("/review", params={"assignee": "unassigned"}).text) == ["a", "c"]
    assert client.get("/review", params={"status": "closed"}).status_code == 400


def test_the_queue_pages_with_its_cursor(client, tokens, monkeypatch):
    from vocmine_api.console.pages import review

    monkeypatch.setattr(review, "PAGE_SIZE", 1)
    sign_in_reviewer(client, tokens["review"])
    first = client.get("/review")
    assert _queue_ids(first.text) == ["a"]
    next_url = re.search(r'<a href="([^"]+)" rel="next">Next page', first.text)
    assert next_url
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    assert _queue_ids(second.text) == ["c"] and 'rel="next">Next page' not in second.text


def test_a_reviewer_works_an_item_and_the_audit_names_them(client, tokens):
    csrf = sign_in_reviewer(client, tokens["review"])
    item = client.get("/review/a", params={"status": "open"})
    assert item.status_code == 200 and "<mark>my </mark>bill is wrong again" in item.text
    # A review-only key cannot open the conversation page (it needs read): the link says so instead.
    assert 'href="/conversations/a"' not in item.text and "needs the read scope as well" in item.text
    back = "status=open"
    done = client.post(
        "/review/a/assign", data={"csrf": csrf, "revision": _revision(item.text), "to": "me", "back": back}
    )
    assert done.status_code == 200 and "Assigned to review key." in done.text  # followed the redirect back
    assert "status=open" in str(done.url)
    done = client.post(
        "/review/a/status", data={"csrf": csrf, "revision": _revision(done.text), "status": "in_review", "back": back}
    )
    assert "Status set to in review." in done.text
    done = client.post("/review/a/notes", data={"csrf": csrf, "text": "Called back, refund issued.", "back": back})
    assert "Note added." in done.text and "Called back, refund issued." in done.text
    done = client.post("/review/a/loop", data={"csrf": csrf, "revision": _revision(done.text), "closed": "true"})
    assert "Marked as closed with the customer." in done.text
    done = client.post(
        "/review/a/status", data={"csrf": csrf, "revision": _revision(done.text), "status": "resolved", "back": back}
    )
    assert 'class="state-status">resolved<' in done.text
    assert _audit_rows(done.text) == [
        "review key | status → resolved",
        "review key | loop closed with the customer",
        "review key | added a note (27 characters)",
        "review key | status → in review",
        "review key | assigned to review key",
    ]
    # The JSON API sees the same review, with the person as the actor.
    state = client.get("/v1/review/a", headers=auth(tokens["review"])).json()
    assert state["status"] == "resolved" and state["assignee"] == "review key" and state["loop_closed"]
    audit = client.get("/v1/review/a/audit", headers=auth(tokens["review"])).json()
    assert len({e["actor"] for e in audit}) == 1  # every step by the same person
    assert audit[0]["actor"].startswith("key:") and audit[0]["actor"].endswith("(review key)")
    # Resolved, it has left the open queue and "mine" lists it.
    assert _queue_ids(client.get("/review").text) == ["c"]
    assert _queue_ids(client.get("/review", params={"assignee": "mine", "status": "any"}).text) == ["a"]
    assert _queue_ids(client.get("/review", params={"assignee": "unassigned", "status": "any"}).text) == ["c"]
    assert _queue_ids(client.get("/review", params={"assignee": "review key", "status": "any"}).text) == ["a"]


def test_next_in_queue_follows_the_queue_even_after_the_item_left_it(client, tokens):
    csrf = sign_in_reviewer(client, tokens["review"])
    first = client.get("/review/a", params={"status": "open", "pos": "0"})
    link = re.search(r'id="next-item" href="([^"]+)"', first.text)
    assert link and link.group(1).startswith("/review/c?")
    client.post("/review/a/status", data={"csrf": csrf, "revision": _revision(first.text), "status": "dismissed"})
    again = client.get("/review/a", params={"status": "open", "pos": "0"})
    link = re.search(r'id="next-item" href="([^"]+)"', again.text)
    assert link and link.group(1).startswith("/review/c?")
    last = client.get(link.group(1).replace("&amp;", "&"))
    assert last.status_code == 200 and 'id="next-item"' not in last.text


def test_a_stale_revision_gets_the_conflict_page(client, tokens):
    csrf = sign_in_reviewer(client, tokens["review"])
    seen = _revision(client.get("/review/c").text)
    # Someone else assigns it meanwhile (through the API).
    client.post("/v1/review/c/assign", json={"assignee": "someone else"}, headers=auth(tokens["review"]))
    stale = client.post("/review/c/status", data={"csrf": csrf, "revision": seen, "status": "in_review"})
    assert stale.status_code == 409
    assert "Someone else changed this review since you loaded it" in stale.text
    assert "Reload this review" in stale.text
    # Nothing was overwritten; the page shows the review as it is now, with its new revision.
    state = client.get("/v1/review/c", headers=auth(tokens["review"])).json()
    assert state["status"] == "new" and state["assignee"] == "someone else"
    assert _revision(stale.text) == state["revision"]
    # A move the workflow does not allow is a 409 that says which moves are.
    jump = client.post("/review/c/status", data={"csrf": csrf, "revision": state["revision"], "status": "resolved"})
    assert jump.status_code == 409 and "a new review cannot become resolved" in jump.text


def test_reviewing_needs_the_review_scope(client, tokens):
    csrf = sign_in_console(client, tokens["read"])
    refused = client.get("/review")
    assert refused.status_code == 403 and "lacks the &#39;review&#39; scope" in refused.text
    assert client.get("/review/a").status_code == 403
    for path, data in [
        ("/review/a/assign", {"to": "me", "revision": "0"}),
        ("/review/a/status", {"status": "in_review", "revision": "0"}),
        ("/review/a/notes", {"text": "hello"}),
        ("/review/a/loop", {"closed": "true", "revision": "0"}),
    ]:
        answer = client.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 403, path
    assert client.get("/v1/review/a", headers=auth(tokens["review"])).json()["revision"] == 0
    # The read-only person's navigation has no review queue.
    assert 'href="/review"' not in client.get("/preferences").text


def test_writes_need_the_sessions_csrf_token(client, tokens):
    sign_in_reviewer(client, tokens["review"])
    forged = client.post("/review/a/assign", data={"csrf": "0" * 32, "to": "me", "revision": "0"})
    assert forged.status_code == 403
    assert client.get("/v1/review/a", headers=auth(tokens["review"])).json()["assignee"] is None


def test_an_unknown_conversation_and_an_empty_note(client, tokens):
    csrf = sign_in_reviewer(client, tokens["review"])
    missing = client.get("/review/nope")
    assert missing.status_code == 404 and "no analysed conversation" in missing.text
    empty = client.post("/review/a/notes", data={"csrf": csrf, "text": "   "})
    assert empty.status_code == 400 and "the note is empty" in empty.text


def test_the_item_links_to_the_full_conversation_for_a_reader(client, tokens):
    sign_in_console(client, tokens["admin"])
    item = client.get("/review/c")
    assert item.status_code == 200 and 'href="/conversations/c"' in item.text


def test_times_are_shown_in_the_persons_zone(client, tokens):
    sign_in_reviewer(client, tokens["review"], tz="Asia/Tokyo")
    # "a" started 2026-09-01 00:00 UTC: 09:00 in Tokyo.
    assert "2026-09-01 09:00 JST" in client.get("/review").text

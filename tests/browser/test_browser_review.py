"""A quality reviewer works through the review queue in a real browser, with the keyboard."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

NOTE = "Called the customer back: a refund was issued [ref 42], she is satisfied now."


def _audit(page: Any) -> list[tuple[str, str]]:
    rows = page.locator("table.audit tbody tr")
    return [
        (rows.nth(i).locator("td").nth(1).inner_text(), rows.nth(i).locator("td").nth(2).inner_text())
        for i in range(rows.count())
    ]


def test_a_reviewer_works_an_item_from_the_queue_with_the_keyboard(as_person: Any) -> None:
    page = as_person("reviewer", "/review")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    links = page.locator("table.queue a.item-link")
    count = links.count()
    assert count > 1
    # The last item of the first page: no other test works it.
    item_id = links.nth(count - 1).inner_text()
    for _ in range(count):
        page.keyboard.press("j")
    expect(page.locator("table.queue tr.current a.item-link")).to_have_text(item_id)
    expect(links.nth(count - 1)).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/review/{re.escape(item_id)}\?"))
    expect(page.get_by_role("heading", name=f"Review: {item_id}")).to_be_visible()
    expect(page.locator(".state-status")).to_have_text("new")

    page.keyboard.press("a")  # assign to me
    expect(page.get_by_role("status")).to_have_text("Assigned to Rita Reviewer.")
    expect(page.locator(".state-assignee")).to_have_text("Rita Reviewer")

    page.keyboard.press("s")
    status = page.get_by_label("Move to")
    expect(status).to_be_focused()
    status.select_option("in_review")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("status")).to_have_text("Status set to in review.")

    page.keyboard.press("n")
    note = page.get_by_label("Add a note")
    expect(note).to_be_focused()
    # Typing in the box types: the letters are not taken as shortcuts (a, s, n, j and ] all occur).
    page.keyboard.type(NOTE)
    expect(note).to_have_value(NOTE)
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    expect(page.locator("ul.notes")).to_contain_text("a refund was issued [ref 42]")

    page.get_by_label("Move to").select_option("resolved")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("status")).to_have_text("Status set to resolved.")
    expect(page.locator(".state-status")).to_have_text("resolved")

    # The audit lists those steps, newest first, each by Rita Reviewer, in her zone (Europe/Madrid).
    assert _audit(page)[:4] == [
        ("Rita Reviewer", "status → resolved"),
        ("Rita Reviewer", f"added a note ({len(NOTE)} characters)"),
        ("Rita Reviewer", "status → in review"),
        ("Rita Reviewer", "assigned to Rita Reviewer"),
    ]
    when = page.locator("table.audit tbody tr").first.locator("td").first.inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", when), when

    # Resolved, it has left the open queue.
    page.get_by_role("link", name="« Back to the queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.locator("table.queue a.item-link", has_text=item_id)).to_have_count(0)


def test_next_in_queue_with_the_bracket_key(as_person: Any) -> None:
    page = as_person("reviewer", "/review?min_severity=5")
    links = page.locator("table.queue a.item-link")
    first, second = links.nth(0).inner_text(), links.nth(1).inner_text()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/review/{re.escape(first)}\?.*min_severity=5"))
    page.keyboard.press("]")
    page.wait_for_url(re.compile(rf"/review/{re.escape(second)}\?.*min_severity=5"))
    page.keyboard.press("k")  # a queue key does nothing on an item page
    expect(page.get_by_role("heading", name=f"Review: {second}")).to_be_visible()


def test_the_queue_shows_reasons_evidence_and_filters(as_person: Any) -> None:
    page = as_person("reviewer", "/review")
    first = page.locator("table.queue tbody tr").first
    expect(first.locator(".badge").first).to_have_text("5")
    expect(first.locator("ul.reasons li").first).to_contain_text("escalation")
    expect(first.locator("blockquote.snippet mark")).to_have_count(1)
    page.get_by_label("Flag", exact=True).select_option("churn_risk")  # the filter bar submits on change
    page.wait_for_url(re.compile(r"flag=churn_risk"))
    rows = page.locator("table.queue tbody tr")
    assert rows.count() > 0
    for i in range(rows.count()):
        expect(rows.nth(i).locator("ul.reasons")).to_contain_text("churn risk")
    expect(page.get_by_text("Keyboard:")).to_be_visible()


def test_an_analyst_cannot_open_the_review_queue(as_person: Any) -> None:
    page = as_person("analyst", "/review")
    expect(page.get_by_role("alert")).to_contain_text("lacks the 'review' scope")
    expect(page.get_by_role("navigation", name="Pages").get_by_role("link", name="Review queue")).to_have_count(0)

"""A conversation in a real browser: a quality reviewer corrects a segment's sentiment and sees the
confirmation; flags show their evidence marked in the turn."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any


def _get(console_url: str, path: str, token: str) -> Any:
    request = urllib.request.Request(f"{console_url}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def unflagged_social_conversation(console_url: str, token: str) -> str:
    """A social conversation without flags and with customer segments: not in the review queue, so
    correcting it changes nothing that the review queue's tests work on (the last such one, so other
    tests picking "the first" do not share it)."""
    found = _get(console_url, "/v1/search?channel=social&limit=50", token)["hits"]
    chosen = None
    for hit in found:
        view = _get(console_url, f"/v1/conversations/{hit['conversation']['id']}", token)
        analysis = view["analysis"]
        if analysis and not analysis["flags"] and analysis["segments"]:
            chosen = hit["conversation"]["id"]
    assert chosen, "the demo corpus has social conversations without flags"
    return str(chosen)


def flagged_conversation(console_url: str, token: str) -> str:
    for hit in _get(console_url, "/v1/search?flag=escalation&limit=20", token)["hits"]:
        return str(hit["conversation"]["id"])
    raise AssertionError("the demo corpus has escalations")


def test_a_reviewer_corrects_a_segments_sentiment(as_person: Any, console_url: str, tokens: dict[str, str]) -> None:
    conversation_id = unflagged_social_conversation(console_url, tokens["admin"])
    page = as_person("reviewer", f"/conversations/{conversation_id}")
    segment = page.locator("li.turn .segment").first
    model_said = re.search(r"sentiment-(\w+)", segment.get_attribute("class") or "").group(1)  # type: ignore[union-attr]
    right = "positive" if model_said != "positive" else "negative"
    segment.get_by_text("Correct segment 1").click()
    segment.get_by_label("Sentiment of segment 1").select_option(right)
    segment.get_by_role("button", name="Save sentiment").click()
    page.wait_for_url(re.compile(r"saved=1"))
    confirmation = page.get_by_role("status").inner_text()
    assert f"the sentiment of segment 1 is now {right} (the model said {model_said})" in confirmation
    assert f"the sentiment of segment 1 is now {right}" in page.locator("#corrections").inner_text()
    assert "Rita Reviewer" in page.locator("#corrections").inner_text()  # the audit trail names the person


def test_flag_evidence_is_marked_in_the_turns(as_person: Any, console_url: str, tokens: dict[str, str]) -> None:
    conversation_id = flagged_conversation(console_url, tokens["admin"])
    page = as_person("analyst", f"/conversations/{conversation_id}")
    assert "escalation" in page.locator("#flags-title + ul").inner_text()
    assert page.locator('li.turn mark[title*="escalation"]').count() > 0

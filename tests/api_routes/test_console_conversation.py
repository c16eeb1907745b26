"""The console's conversation page: turns with their roles, customer segments coloured by sentiment
with their themes, flags with their evidence marked in the text, and label corrections that a
reviewer records (the same as the API's) and a read-only person cannot."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import auth, sign_in_console
from vocmine.schema import Evidence, Flag
from vocmine.store.protocol import Store
from vocmine.testing.factories import analysis, dated_conversation, vectors

CUSTOMER = "I want a refund <b>now</b>. Otherwise I cancel."


@pytest.fixture
def chat(api_store: Store) -> str:
    """A chat with a customer turn and an agent turn, two customer segments (negative, then neutral),
    and an escalation flag whose evidence is "I cancel" in the customer's turn."""
    c = dated_conversation("chat-1", CUSTOMER, agent_text="Sorry <i>about</i> that, it is on its way.", brand="Acme")
    made = analysis(c, flags=())
    first = made.segments[0].model_copy(update={"end": 27, "text": CUSTOMER[:27], "theme_id": "t1"})
    second = made.segments[0].model_copy(
        update={"id": "chat-1:0:28", "start": 28, "text": CUSTOMER[28:], "sentiment": "neutral", "sentiment_score": 0.0}
    )
    start = CUSTOMER.index("I cancel")
    flag = Flag(
        signal="churn_risk",
        severity=4,
        reason="The customer says they will leave",
        evidence=[Evidence(turn_index=0, start=start, end=start + 8, text="I cancel", context=CUSTOMER[28:])],
        model_version="r1",
    )
    api_store.upsert_conversations([c])
    api_store.write_analyses([made.model_copy(update={"segments": [first, second], "flags": [flag]})], [vectors(2)])
    return c.id


def sign_in_at(client: TestClient, token: str, path: str) -> str:
    """Sign in through the form straight to ``path`` (a key with the review scope alone may not open
    the preferences page that ``sign_in_console`` lands on); the CSRF token of the page reached."""
    answer = client.post("/sign-in", data={"key": token, "next": path, "tz": "UTC"})
    assert answer.status_code == 200, answer.text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', answer.text)
    assert found
    return found.group(1)


def segment_classes(page: str) -> dict[str, str]:
    return {seg: css for css, seg in re.findall(r'<div class="segment (sentiment-\w+)" data-segment="([^"]+)"', page)}


def test_the_page_shows_turns_roles_segments_flags_and_themes(
    client: TestClient, tokens: dict[str, str], chat: str
) -> None:
    sign_in_console(client, tokens["read"])
    page = client.get(f"/conversations/{chat}").text
    roles = re.findall(r'<li class="turn role-(\w+)" id="turn-(\d)">.*?<strong class="role">(\w+)</strong>', page, re.S)
    assert roles == [("customer", "0", "Customer"), ("agent", "1", "Agent")]
    assert segment_classes(page) == {"chat-1:0:0": "sentiment-negative", "chat-1:0:28": "sentiment-neutral"}
    # the evidence is marked where it was said, and nothing the people wrote is read as HTML
    assert re.search(r'<mark title="evidence of churn_risk">I cancel</mark>', page)
    assert "&lt;b&gt;now&lt;/b&gt;" in page and "<b>now" not in page and "&lt;i&gt;about" in page
    assert "churn risk" in page and "The customer says they will leave" in page and "severity 4 of 5" in page
    assert '<a href="/themes/t1">label t1</a>' in page
    assert "Acme" in page and "Journey stage" in page and "support" in page
    assert "Save sentiment" not in page  # a read-only person sees no correction forms
    assert "Open its review item" not in page


def test_the_trajectory_chart_draws_the_customer_segments_in_order(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    sign_in_console(client, tokens["read"])
    page = client.get("/conversations/a").text  # two customer segments: the chart has a dot for each
    assert page.count('<circle class="dot') == 2
    assert "Trajectory: <strong>improved</strong>" in page
    assert 'href="/themes/t1"' in page and 'href="/themes/t2"' in page


def test_an_unknown_conversation_is_a_404_page(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    answer = client.get("/conversations/no-such-thing")
    assert answer.status_code == 404
    assert "no conversation with id &#39;no-such-thing&#39;" in answer.text and "search page" in answer.text


def test_a_reviewer_corrects_a_segment_and_the_review_records_it(
    client: TestClient, tokens: dict[str, str], chat: str
) -> None:
    csrf = sign_in_at(client, tokens["review"], f"/conversations/{chat}")
    page = client.get(f"/conversations/{chat}").text
    assert "Save sentiment" in page and "Save theme" in page and "Save stage" in page
    assert f'href="/review/{chat}"' in page  # flagged: in the review queue
    answer = client.post(
        f"/conversations/{chat}/corrections",
        data={"csrf": csrf, "field": "sentiment", "value": "positive", "segment_id": "chat-1:0:28"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/conversations/{chat}?saved=1"
    shown = client.get(answer.headers["location"]).text
    assert "Correction saved: the sentiment of segment 2 is now positive (the model said neutral)" in shown
    stage = client.post(
        f"/conversations/{chat}/corrections", data={"csrf": csrf, "field": "stage", "value": "purchase"}
    )
    assert "the journey stage of the conversation is now purchase (the model said support)" in stage.text
    review = client.get(f"/v1/review/{chat}", headers=auth(tokens["review"])).json()
    assert [(c["field"], c["value"], c["segment_id"], c["previous"]) for c in review["corrections"]] == [
        ("sentiment", "positive", "chat-1:0:28", "neutral"),
        ("stage", "purchase", None, "support"),
    ]
    assert all(c["author"].endswith("(review key)") for c in review["corrections"])
    audit = client.get(f"/v1/review/{chat}/audit", headers=auth(tokens["review"])).json()
    assert [e["actor"] for e in audit if e["action"] == "correction"] == [review["corrections"][0]["author"]] * 2


def test_a_theme_correction_names_the_theme(client: TestClient, tokens: dict[str, str], chat: str) -> None:
    csrf = sign_in_at(client, tokens["review"], f"/conversations/{chat}")
    answer = client.post(
        f"/conversations/{chat}/corrections",
        data={"csrf": csrf, "field": "theme", "value": "t2", "segment_id": "chat-1:0:0"},
    )
    assert "the theme of segment 1 is now label t2 (the model said label t1)" in answer.text


def test_an_invalid_correction_comes_back_saying_what_to_change(
    client: TestClient, tokens: dict[str, str], chat: str
) -> None:
    csrf = sign_in_at(client, tokens["review"], f"/conversations/{chat}")
    wrong = client.post(
        f"/conversations/{chat}/corrections", data={"csrf": csrf, "field": "sentiment", "value": "angry"}
    )
    assert wrong.status_code == 400
    assert "&#39;angry&#39; is not a sentiment" in wrong.text and "negative, neutral, positive" in wrong.text
    assert 'data-segment="chat-1:0:0"' in wrong.text  # the conversation, to choose again
    orphan = client.post(
        f"/conversations/{chat}/corrections",
        data={"csrf": csrf, "field": "theme", "value": "t1", "segment_id": "a:0:0"},
    )
    assert orphan.status_code == 400 and "is not part of chat-1" in orphan.text
    assert client.get(f"/v1/review/{chat}", headers=auth(tokens["review"])).json()["corrections"] == []


def test_a_read_key_cannot_correct(client: TestClient, tokens: dict[str, str], chat: str) -> None:
    csrf = sign_in_console(client, tokens["read"])
    answer = client.post(
        f"/conversations/{chat}/corrections",
        data={"csrf": csrf, "field": "sentiment", "value": "positive", "segment_id": "chat-1:0:0"},
    )
    assert answer.status_code == 403 and "lacks the &#39;review&#39; scope" in answer.text
    reviewer_csrf = sign_in_at(client, tokens["review"], f"/conversations/{chat}")
    forged = client.post(f"/conversations/{chat}/corrections", data={"field": "sentiment", "value": "positive"})
    assert forged.status_code == 403  # no CSRF token
    assert (
        reviewer_csrf and client.get(f"/v1/review/{chat}", headers=auth(tokens["review"])).json()["corrections"] == []
    )

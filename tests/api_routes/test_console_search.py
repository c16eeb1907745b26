"""The console's search page and its CSV export: the hits and facet counts the /v1 search route
answers for the same query, cursor paging, highlights that cannot carry HTML from the customer's
text, and a CSV whose cells a spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import auth, sign_in_console
from vocmine.store.protocol import Store
from vocmine.testing.factories import analysis, conversation, vectors

FORMULA = '=HYPERLINK("http://evil.example","refund")'
HOSTILE = "<script>alert('x')</script> my refund </mark><img src=x onerror=alert(1)> never came"


def hit_ids(page: str) -> list[str]:
    return re.findall(r'<li class="hit" data-id="([^"]+)"', page)


def facet_counts(page: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for group, value, count in re.findall(r'data-facet="(\w+)" data-value="([^"]+)" data-count="(\d+)"', page):
        counts.setdefault(group, {})[html.unescape(value)] = int(count)
    return counts


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', page)
    return html.unescape(found.group(1)) if found else None


def add(store: Store, cid: str, *texts: str) -> None:
    """One more analysed chat (negative, no flags) in the seeded store."""
    c = conversation(cid, *texts)
    store.upsert_conversations([c])
    store.write_analyses([analysis(c)], [vectors(len(texts), seed=7)])


@pytest.fixture
def analyst(client: TestClient, tokens: dict[str, str]) -> TestClient:
    sign_in_console(client, tokens["read"])
    return client


def test_a_filtered_search_shows_the_hits_and_facet_counts_the_api_answers(
    analyst: TestClient, api_store: Store, tokens: dict[str, str]
) -> None:
    answer = analyst.get("/search", params={"q": "app", "channel": "chat"})
    assert answer.status_code == 200, answer.text
    assert sorted(hit_ids(answer.text)) == ["a", "c"]  # b and d never mention the app
    assert "2 conversations" in answer.text
    facets = facet_counts(answer.text)
    assert facets["channel"] == {"chat": 2}
    assert facets["sentiment"] == {"negative": 2}
    assert facets["signal"] == {"escalation": 1, "churn_risk": 1}
    api = analyst.get(
        "/v1/search", params={"q": "app", "channel": "chat", "facets": "true"}, headers=auth(tokens["read"])
    ).json()
    assert sorted(h["conversation"]["id"] for h in api["hits"]) == sorted(hit_ids(answer.text))
    assert {g: c for g, c in api["facets"].items() if c} == facets
    # the matched word is highlighted, and each hit links to its conversation
    assert re.search(r"<mark>app</mark>", answer.text, re.IGNORECASE)
    assert 'href="/conversations/a"' in answer.text and 'href="/conversations/c"' in answer.text


def test_a_facet_is_a_link_that_narrows_the_search(analyst: TestClient) -> None:
    everything = analyst.get("/search", params={"q": "bill"}).text
    assert sorted(hit_ids(everything)) == ["a", "b"]
    assert facet_counts(everything)["channel"] == {"chat": 1, "email": 1}
    link = re.search(r'<a href="([^"]+)">email <span class="count">1</span>', everything)
    assert link, "the email count is a link"
    narrowed = analyst.get(html.unescape(link.group(1))).text
    assert hit_ids(narrowed) == ["b"]
    assert 'aria-current="true">email</span>' in narrowed  # shown as the active filter


def test_every_api_filter_is_on_the_page_and_applies(analyst: TestClient) -> None:
    page = analyst.get("/search").text
    for name in ("channel", "source", "brand", "product", "agent", "team", "language", "since", "until",
                 "sentiment", "stage", "trajectory", "flag", "min_severity", "theme", "q", "mode"):  # fmt: skip
        assert f'name="{name}"' in page, name
    assert sorted(hit_ids(page)) == ["a", "b", "c", "d"]  # no words: every conversation, newest first
    assert hit_ids(analyst.get("/search", params={"flag": "churn_risk"}).text) == ["c"]
    assert sorted(hit_ids(analyst.get("/search", params={"sentiment": "negative", "min_severity": "4"}).text)) == ["a"]
    assert sorted(hit_ids(analyst.get("/search", params={"theme": "t1"}).text)) == ["a", "b"]


def test_paging_with_next_and_first_page(analyst: TestClient) -> None:
    first = analyst.get("/search", params={"q": "app OR bill", "limit": "2"}).text
    assert len(hit_ids(first)) == 2 and "3 conversations" in first
    assert "First page" not in first
    following = next_link(first)
    assert following and "cursor=" in following
    second = analyst.get(following).text
    assert len(hit_ids(second)) == 1
    assert not set(hit_ids(second)) & set(hit_ids(first))
    assert sorted(hit_ids(first) + hit_ids(second)) == ["a", "b", "c"]
    assert next_link(second) is None
    first_again = re.search(r'<a href="([^"]+)">First page</a>', second)
    assert first_again and "cursor" not in first_again.group(1)
    assert hit_ids(analyst.get(html.unescape(first_again.group(1))).text) == hit_ids(first)


def test_highlights_cannot_carry_html_from_the_text(analyst: TestClient, api_store: Store) -> None:
    add(api_store, "hostile", HOSTILE)
    page = analyst.get("/search", params={"q": "refund"}).text
    assert hit_ids(page) == ["hostile"]
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=x" in page
    assert "<mark>refund</mark>" in page
    passage = re.search(r'<p class="passage">(.*?)</p>', page, re.S)
    assert passage and passage.group(1).count("<mark>") == passage.group(1).count("</mark>")


def test_a_search_that_cannot_be_read_says_what_to_change(analyst: TestClient) -> None:
    answer = analyst.get("/search", params={"q": "refund (late"})
    assert answer.status_code == 400
    assert "opens a parenthesis it never closes" in answer.text and "add the missing" in answer.text
    bad_filter = analyst.get("/search", params={"channel": "fax"})
    assert bad_filter.status_code == 400 and "a filter is not valid" in bad_filter.text


def test_search_by_meaning_without_the_model_says_so(analyst: TestClient) -> None:
    answer = analyst.get("/search", params={"q": "my money back", "mode": "semantic"})
    assert answer.status_code == 200
    assert "Search by meaning is not available on this server" in answer.text
    assert hit_ids(answer.text) == []


def test_the_search_needs_a_signed_in_person(client: TestClient) -> None:
    answer = client.get("/search?q=app", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=")


def _csv(answer: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_csv_has_a_row_per_result_and_neutralises_formulas(analyst: TestClient, api_store: Store) -> None:
    add(api_store, "formula", FORMULA, "+1 refund again", "@SUM(A1) -2")
    page = analyst.get("/search", params={"q": "app", "channel": "chat"}).text
    link = re.search(r'<a href="(/search\.csv[^"]*)"[^>]*>Download as CSV</a>', page)
    assert link and "up to 10,000 rows" in page
    answer = analyst.get(html.unescape(link.group(1)))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment;")
    rows = _csv(answer)
    assert sorted(r["id"] for r in rows) == ["a", "c"]
    a = next(r for r in rows if r["id"] == "a")
    assert a["channel"] == "chat" and a["sentiment"] == "negative" and a["flags"] == "escalation"
    assert a["started_at"] == "2026-09-01T00:00:00Z"
    assert a["themes"] == "label t1; label t2"
    assert a["first_customer_text"] == "my bill is wrong again"
    risky = _csv(analyst.get("/search.csv", params={"q": "refund"}))
    assert [r["id"] for r in risky] == ["formula"]
    assert risky[0]["first_customer_text"] == "'" + FORMULA


def test_csv_cells_never_start_a_formula() -> None:
    from vocmine_api.console.pages.search import safe_cell

    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("refund = late") == "refund = late"
    assert safe_cell(None) == ""

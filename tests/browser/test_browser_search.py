"""Searching in a real browser: an analyst searches with a filter, reads the highlighted hits and
facet counts, opens a hit, searches by meaning, and downloads the results as CSV."""

from __future__ import annotations

import csv
import io
import re
from typing import Any


def search(page: Any, words: str) -> None:
    page.get_by_label("Search what customers said").fill(words)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state("domcontentloaded")


def test_an_analyst_searches_with_a_filter_and_opens_a_hit(as_person: Any) -> None:
    page = as_person("analyst", "/search")
    search(page, "refund")
    everywhere = page.locator("#results-title").inner_text()
    page.get_by_role("combobox", name=re.compile(r"^Channel")).select_option("chat")  # the filter bar applies on change
    page.wait_for_url(re.compile(r"channel=chat"))
    assert "q=refund" in page.url
    assert page.get_by_label("Search what customers said").input_value() == "refund"
    hits = page.locator("li.hit")
    count = hits.count()
    assert count > 0
    heading = page.locator("#results-title").inner_text()
    total = int(re.match(r"(?:At least )?([\d,]+) conversation", heading).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert total < int(re.match(r"(?:At least )?([\d,]+)", everywhere).group(1).replace(",", ""))  # type: ignore[union-attr]
    for i in range(count):
        assert hits.nth(i).locator(".badge").first.inner_text() == "chat"
        marks = hits.nth(i).locator("mark")
        assert marks.count() > 0 and all(m.lower().startswith("refund") for m in marks.all_inner_texts())
    # the facets count what the search matched: every hit is a chat
    channel_facet = page.locator('[data-facet="channel"]')
    assert channel_facet.count() == 1 and channel_facet.get_attribute("data-count") == str(total)
    negative = page.locator('[data-facet="sentiment"][data-value="negative"]')
    assert negative.count() == 1 and int(negative.get_attribute("data-count")) <= total
    first = hits.first.locator("a.hit-link")
    opened = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/conversations/"))
    assert opened in page.locator("h1").inner_text() or opened in page.locator(".facts").inner_text()
    assert page.locator("li.turn.role-customer").count() > 0
    segments = page.locator("li.turn .segment")
    assert segments.count() > 0
    classes = segments.first.get_attribute("class")
    assert re.search(r"sentiment-(negative|neutral|positive)", classes)
    assert "Save sentiment" not in page.content()  # an analyst reads; only reviewers correct


def test_a_facet_count_narrows_the_search(as_person: Any) -> None:
    page = as_person("analyst", "/search?q=refund")
    facet = page.locator('[data-facet="sentiment"] a').first
    value = facet.locator("xpath=..").get_attribute("data-value")
    expected = facet.locator("xpath=..").get_attribute("data-count")
    facet.click()
    page.wait_for_url(re.compile(rf"sentiment={value}"))
    assert page.locator("#results-title").inner_text().startswith(f"{expected} conversation")
    assert page.get_by_role("combobox", name=re.compile(r"^Sentiment")).input_value() == value


def test_search_by_meaning_finds_conversations_without_the_words(as_person: Any) -> None:
    page = as_person("analyst", "/search")
    page.get_by_label("Search by").select_option("semantic")
    search(page, "my money never came back")
    assert page.locator("li.hit").count() > 0
    assert "by meaning (semantic)" in page.locator("#results-title").inner_text()
    if page.get_by_role("link", name="Next page").count():
        page.get_by_role("link", name="Next page").click()
        assert page.locator("li.hit").count() > 0
        assert page.get_by_role("link", name="First page").count() == 1


def test_the_results_download_as_csv(as_person: Any) -> None:
    page = as_person("analyst", "/search")
    page.goto("/search?q=refund&channel=chat")
    shown = page.locator("li.hit").evaluate_all("hits => hits.map(h => h.dataset.id)")
    total = int(re.match(r"([\d,]+)", page.locator("#results-title").inner_text()).group(1).replace(",", ""))  # type: ignore[union-attr]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert rows and {r["channel"] for r in rows} == {"chat"}
    assert len(rows) == total and set(shown) <= {r["id"] for r in rows}
    assert all(r["sentiment"] in ("negative", "neutral", "positive") for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["started_at"]) for r in rows)

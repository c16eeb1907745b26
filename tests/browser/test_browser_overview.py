"""The overview page in a real browser: headline figures, charts, and the filter bar."""

from __future__ import annotations

import re
from typing import Any


def _figure(page: Any, name: str) -> str:
    return str(page.locator(f'li.metric[data-metric="{name}"] .value').inner_text())


def test_the_analyst_sees_volume_nps_csat_and_charts_and_a_filter_changes_them(as_person: Any) -> None:
    page = as_person("analyst", "/")
    assert page.get_by_role("heading", name="Overview", level=1).is_visible()
    everything = int(_figure(page, "conversations").replace(",", ""))
    assert everything > 0
    # The demo corpus has survey answers: NPS is a signed number of points, CSAT a mean from 1 to 5.
    nps = _figure(page, "nps")
    assert nps[0] in "+-" and -100 <= int(nps) <= 100
    assert 1 <= float(_figure(page, "csat")) <= 5
    assert "responses" in page.locator('li.metric[data-metric="nps"] .detail').inner_text()
    # Each chart is an SVG with its points.
    for name in ("Conversations", "NPS", "Mean CSAT"):
        chart = page.get_by_role("img", name=f"{name} per week (from Monday)", exact=True)
        assert chart.is_visible()
        assert chart.locator("circle").count() > 1
    assert page.get_by_role("img", name="Sentiment mix", exact=False).locator("circle").count() > 1

    page.get_by_label("Channel").select_option("chat")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"[?&]channel=chat"))
    chat = int(_figure(page, "conversations").replace(",", ""))
    assert 0 < chat < everything
    assert page.get_by_label("Channel").input_value() == "chat"
    # The volume chart follows: its points add up to the headline volume.
    volume = page.get_by_role("img", name="Conversations per week (from Monday)", exact=True)
    titles = volume.locator("circle title").all_text_contents()
    assert sum(int(t.rsplit(": ", 1)[1].replace(",", "")) for t in titles) == chat


def test_a_period_and_the_links_to_emerging_and_priorities(as_person: Any) -> None:
    page = as_person("analyst", "/")
    page.get_by_label("Period").select_option("30")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"[?&]period=30"))
    assert page.get_by_role("img", name="Conversations per day", exact=True).locator("circle").count() == 30
    page.get_by_role("link", name="The priority table, every term shown").click()
    page.wait_for_url(re.compile(r"/priorities"))

"""The Themes pages in a real browser: open a theme from the list and read its chart, break the trend
down, rename a theme as admin and see the new name on the pages, and an analyst refused a rename.

The rename test renames the top-level theme with the fewest conversations (no other test uses it) to a
name of its own; no test here merges, so the other pages' themes stay as they are."""

from __future__ import annotations

import uuid
from typing import Any

CHANNELS = {"chat", "email", "social", "call"}


def test_open_a_theme_from_the_list_and_see_its_chart(as_person: Any) -> None:
    page = as_person("analyst", "/themes")
    assert page.get_by_role("heading", level=1).inner_text() == "Themes"
    rows = page.locator("table.themes > tbody > tr.theme")
    assert rows.count() >= 5
    # Each row has its volume, share, sentiment bar and weekly sparkline.
    first = rows.first
    assert int(first.locator("td.conversations").inner_text().replace(",", "")) > 0
    assert first.locator("td.share").inner_text().endswith("%")
    assert first.locator("td.mix svg.stacked-bar rect.part-negative").count() == 1
    assert first.locator("td.trend svg.sparkline polyline").count() == 1
    # Sub-themes open beneath their theme.
    details = first.locator("details.subthemes")
    details.locator("summary").click()
    assert details.locator("tbody tr").first.is_visible()

    link = first.locator("th > a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url("**/themes/g*")
    assert page.get_by_role("heading", level=1).inner_text() == name
    chart = page.locator("svg.line-chart")
    assert chart.count() == 1 and chart.locator("circle.dot").count() >= 4  # the demo spans about twelve weeks
    assert chart.locator("circle.dot title").first.text_content().startswith(f"{name}, ")
    assert page.locator("ul.legend").count() == 0  # one line, nothing to tell apart
    # Verbatims, each linked to its conversation.
    verbatims = page.locator("ul.verbatims li")
    assert verbatims.count() >= 1
    assert verbatims.first.locator("a").get_attribute("href").startswith("/conversations/")

    with page.expect_navigation():
        page.get_by_label("Break down by").select_option("channel")  # the filter bar submits on change
    assert "breakdown=channel" in page.url
    legend = page.locator("ul.legend li")
    assert legend.count() >= 2
    assert {item.inner_text() for item in legend.all()} <= CHANNELS
    assert page.locator("svg.line-chart polyline.line").count() >= 2
    assert page.get_by_role("heading", name="Trend by channel").is_visible()


def test_an_admin_renames_a_theme_and_sees_the_name_on_the_pages(as_person: Any) -> None:
    page = as_person("admin", "/themes")
    # The list is sorted by volume: the last row is the top-level theme with the fewest conversations.
    row = page.locator("table.themes > tbody > tr.theme").last
    theme_id = row.get_attribute("data-theme")
    sub_ids = [r.get_attribute("data-theme") for r in row.locator("tr.subtheme").all()]
    new_name = f"Renamed by the browser test {uuid.uuid4().hex[:6]}"

    page.goto(f"/themes/{theme_id}")
    page.get_by_label("New name").fill(new_name)
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(f"**/themes/{theme_id}?done=renamed")
    assert page.get_by_role("status").inner_text().startswith("Renamed")
    assert page.get_by_role("heading", level=1).inner_text() == new_name

    page.goto("/themes")
    assert page.locator(f'tr.theme[data-theme="{theme_id}"] th > a').first.inner_text() == new_name
    if sub_ids:  # its sub-themes' pages name it as their parent
        page.goto(f"/themes/{sub_ids[0]}")
        assert page.get_by_role("link", name=new_name).get_attribute("href") == f"/themes/{theme_id}"


def test_an_analyst_has_no_rename_form_and_a_forged_rename_is_refused(as_person: Any) -> None:
    page = as_person("analyst", "/themes")
    link = page.locator("table.themes > tbody > tr.theme th > a").first
    name, href = link.inner_text(), link.get_attribute("href")
    page.goto(href)
    assert page.get_by_label("New name").count() == 0
    assert page.get_by_role("button", name="Rename").count() == 0
    assert page.get_by_role("button", name="Merge").count() == 0

    csrf = page.evaluate("document.querySelector('main').dataset.csrf")
    assert csrf
    renamed = page.request.post(f"{href}/rename", form={"csrf": csrf, "name": "Forged name"})
    assert renamed.status == 403 and "lacks the 'admin' scope" in renamed.text().replace("&#39;", "'")
    merged = page.request.post(f"{href}/merge", form={"csrf": csrf, "source": "g1"})
    assert merged.status == 403
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == name

"""Emerging themes, priorities and drivers in a real browser, as an analyst (read scope) on the demo
store: the explanations in words, the stacked bars with their legend, the error bars."""

from __future__ import annotations

import re
from typing import Any

SENTENCE = re.compile(
    r"mentioned in [\d,]+ of [\d,]+ conversations in the last 14 days \([\d.]+%\) against [\d,]+ of [\d,]+ before"
    r" \([\d.]+%\): .*\(q = [\d.e+-]+\)"
)


def test_analyst_reads_why_each_theme_is_or_is_not_emerging(as_person: Any) -> None:
    page = as_person("analyst", "/emerging")
    assert page.get_by_role("heading", name="Emerging themes", level=1).is_visible()
    explanation = page.locator("section.explain").inner_text()
    assert "Benjamini–Hochberg" in explanation and "q-value below 0.05" in explanation
    assert re.search(r"the last 14 days, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d, against the 56 days before", explanation)
    sentences = page.locator("table.emerging td.sentence")
    assert sentences.count() >= 3
    for n in range(sentences.count()):
        assert SENTENCE.search(sentences.nth(n).inner_text()), sentences.nth(n).inner_text()
    themes = page.locator("table.emerging tbody th[scope=row] a").all_inner_texts()
    # Choosing sub-themes (the select submits the form) lists the finer themes instead.
    page.get_by_label("Level").select_option("subtheme")
    page.wait_for_url("**level=subtheme**")
    assert page.locator("table.emerging tbody tr").count() > len(themes)
    assert page.locator("table.emerging tbody th[scope=row] a").all_inner_texts() != themes


def test_analyst_sees_each_priority_split_into_its_terms(as_person: Any) -> None:
    page = as_person("analyst", "/priorities")
    assert "score = 100 × reach × (0.35 × negativity" in page.locator(".formula").inner_text()
    legend = page.get_by_role("list", name="Legend of the bars")
    assert legend.locator("li").all_inner_texts() == ["Negativity", "Growth", "Severity", "NPS impact"]
    bars = page.locator("table.priorities svg.stacked-bar")
    assert bars.count() >= 3 and bars.first.is_visible()
    first = bars.first
    assert re.match(r".+: score [\d.]+ = Negativity [\d.]+, Growth [\d.]+", first.get_attribute("aria-label") or "")
    # The legend's colour for negativity is the colour of the bars' negativity parts.
    swatch = legend.locator(".swatch").first.evaluate("e => getComputedStyle(e).backgroundColor")
    part = page.locator("table.priorities rect.part-negativity").first.evaluate("e => getComputedStyle(e).fill")
    assert swatch == part and swatch not in ("", "rgba(0, 0, 0, 0)")
    # Longer bar, higher score: the bars compare across themes.
    widths = [float(b.get_attribute("width") or 0) for b in bars.all()]
    assert widths == sorted(widths, reverse=True)
    # Where the drivers have too few survey answers, the NPS term is shown as n/a.
    assert page.locator("table.priorities td.na").first.inner_text().startswith("n/a")


def test_analyst_sees_driver_error_bars_and_not_enough_data(as_person: Any) -> None:
    page = as_person("analyst", "/drivers")
    assert page.get_by_role("heading", name="What an impact is").is_visible()
    for metric in ("NPS", "CSAT"):
        section = page.locator(f"section#{metric.lower()}")
        chart = section.locator("svg.interval-chart")
        assert chart.is_visible()
        assert chart.get_attribute("aria-label") == f"Impact of each theme on {metric}, with 95% intervals (points)"
        bars = chart.locator("g.estimate line.whisker")
        assert bars.count() >= 1  # an error bar
        assert chart.locator("text.not-enough").count() >= 1
        rows = section.locator("table.drivers tbody tr")
        texts = rows.all_inner_texts()
        assert any(re.search(r"[+-][\d.]+ to [+-][\d.]+", t) for t in texts)  # an interval row
        assert any("not enough data" in t for t in texts)
        assert rows.count() == chart.locator("text.row-name").count()  # every theme in both, none hidden

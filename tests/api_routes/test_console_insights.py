"""The Emerging, Priorities and Drivers pages of the console: each shows the numbers the /v1 route
answers for the same query, at both theme levels, and a window or option it cannot use is a 400
page that says what to change."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.api_routes.conftest import auth, sign_in_console
from vocmine.schema import Theme
from vocmine.store.protocol import Store
from vocmine.testing.factories import catalog, seed_analysed


class _Rows(HTMLParser):
    """The text of each cell of the table rows that carry ``data-theme``, by theme id (in page order),
    inside the element whose id is ``within`` (the whole page when None)."""

    def __init__(self, within: str | None) -> None:
        super().__init__()
        self.within, self.depth = within, 0 if within else 1
        self.rows: dict[str, list[str]] = {}
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.within and found.get("id") == self.within:
            self.depth = 1
        elif self.depth and tag == "section":
            self.depth += 1
        if not self.depth:
            return
        if tag == "tr" and found.get("data-theme"):
            self.row = self.rows.setdefault(str(found["data-theme"]), [])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag == "section" and self.depth and self.within:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows(html: str, within: str | None = None) -> dict[str, list[str]]:
    parser = _Rows(within)
    parser.feed(html)
    return parser.rows


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&amp;", "&").split())


# 30 more scored conversations: t1 (low scores) and t2 (high ones) have enough survey answers for a
# driver, t4 has too few (3); t3 is new in the last days (days 6 to 8), so it emerges.
MORE = [
    (
        f"n{i}",
        2 + i % 7,
        [("the bill was wrong" if i % 2 == 0 else "the app works", "t1" if i % 2 == 0 else "t2")]
        + ([("the router never arrived", "t3")] if i % 7 >= 4 else [])
        + ([("my address changed", "t4")] if i < 3 else []),
        "negative" if i % 2 == 0 else "positive",
        ("churn_risk",) if i % 4 == 0 else (),
        "chat",
        [0, 2, 5, 8, 9][i % 5] if i % 2 == 0 else [9, 10, 10, 7, 6][i % 5],
    )
    for i in range(30)
]


# The window's end is given: the Elasticsearch emulator cannot find the latest conversation (see
# test_routes.py), and would end the window today, after every seeded conversation.
END = "2026-09-11"
NAMES = {"t1": "label t1", "t2": "label t2", "t4": "label t4", "t3": "Delivery", "g1": "Billing and app"}


@pytest.fixture
def console(client: Any, api_store: Store, tokens: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The seeded store with the extra scored conversations, sub-themes t1, t2 and t4 grouped under the
    top-level theme g1 (t3 is a top-level seed), an analyst signed in; returns the client and the
    headers of the read key for /v1."""
    seed_analysed(api_store, MORE)
    subs = [t.model_copy(update={"parent": "g1"}) for t in catalog("t1", "t2", "t4")]
    seed = catalog("t3")[0].model_copy(update={"seeded": True, "level": "theme", "name": "Delivery"})
    top = Theme(id="g1", label="Billing and app", name="Billing and app", keywords=["bill"], level="theme", size=4)
    api_store.replace_themes([*subs, seed, top], "themes-console-insights")
    sign_in_console(client, tokens["read"])
    return client, auth(tokens["read"])


def test_emerging_page_shows_the_api_numbers_and_explains_each_in_words(console: Any) -> None:
    client, read = console
    query = {"recent_days": "5", "baseline_days": "20", "level": "subtheme", "end": END}
    api = client.get("/v1/themes/emerging", params=query, headers=read).json()
    answer = client.get("/emerging", params=query)
    assert answer.status_code == 200
    shown = rows(answer.text)
    assert list(shown) == [t["theme_id"] for t in api["themes"]] and len(shown) >= 2
    assert api["themes"][0]["theme_id"] == "t3" and api["themes"][0]["emerging"]  # a theme to mark
    for theme in api["themes"]:
        name, recent, baseline, ratio, q, words = shown[theme["theme_id"]]
        assert name.startswith(NAMES[theme["theme_id"]])
        assert recent.startswith(f"{theme['recent_count']} / {theme['recent_conversations']}")
        assert baseline.startswith(f"{theme['baseline_count']} / {theme['baseline_conversations']}")
        assert ratio == f"{theme['rate_ratio']:.2f}" and float(q) == pytest.approx(
            theme["q_value"], rel=0.05, abs=0.005
        )
        assert words.startswith(
            f"{NAMES[theme['theme_id']]}: mentioned in {theme['recent_count']} of {theme['recent_conversations']} "
            f"conversations in the last 5 days"
        )
        assert f"(q = {q})" in words
        assert ("emerging" in name.split()) == theme["emerging"]
        assert ("not emerging" in words) == (not theme["emerging"] and theme["recent_share"] > theme["baseline_share"])
    window = api["window"]
    recent_start, end = date.fromisoformat(window["recent_start"]), date.fromisoformat(window["end"])
    page_text = text(answer.text)
    assert (
        f"the last 5 days, {recent_start} to {end - timedelta(days=1)}, against the 20 days before "
        f"({window['baseline_start']} to {recent_start - timedelta(days=1)})"
    ) in page_text
    # The explanation states the rule emerging.py applies.
    assert "at least 5 mentions in the recent window" in page_text and "q-value below 0.05" in page_text
    assert "Benjamini–Hochberg" in page_text
    assert f"{sum(t['emerging'] for t in api['themes'])} of {len(api['themes'])} sub-themes emerging" in page_text


def test_emerging_level_select_changes_the_rows(console: Any) -> None:
    client, read = console
    for level, expected in (("theme", {"g1", "t3"}), ("subtheme", {"t1", "t2", "t3", "t4"})):
        query = {"recent_days": "5", "level": level, "end": END}
        api = client.get("/v1/themes/emerging", params=query, headers=read).json()
        shown = rows(client.get("/emerging", params=query).text)
        assert set(shown) == {t["theme_id"] for t in api["themes"]} == expected
    page = client.get("/emerging", params={"recent_days": "5", "end": END}).text
    assert re.search(r'<option value="theme" selected>Themes</option>', page)
    assert 'href="/themes/g1">Billing and app</a>' in page


def test_emerging_with_a_filter_matches_the_api_with_that_filter(console: Any) -> None:
    client, read = console
    query = {"recent_days": "5", "channel": "chat", "level": "subtheme", "end": END}
    api = client.get("/v1/themes/emerging", params=query, headers=read).json()
    shown = rows(client.get("/emerging", params=query).text)
    assert list(shown) == [t["theme_id"] for t in api["themes"]]
    everything = client.get(
        "/v1/themes/emerging", params={"recent_days": "5", "level": "subtheme", "end": END}, headers=read
    )
    assert api["themes"] != everything.json()["themes"]  # the filter changed the answer


def test_priorities_page_shows_the_formula_and_every_term(console: Any) -> None:
    client, read = console
    query = {"recent_days": "5", "level": "subtheme", "end": END}
    api = client.get("/v1/signals/priorities", params=query, headers=read).json()
    answer = client.get("/priorities", params=query)
    assert answer.status_code == 200
    assert api["formula"] in text(answer.text)
    shown = rows(answer.text)
    assert list(shown) == [p["theme_id"] for p in api["priorities"]] and shown
    for p in api["priorities"]:
        name, score, _bar, reach, *terms = shown[p["theme_id"]]
        assert name == NAMES[p["theme_id"]]
        assert score == f"{p['score']:.1f}" and reach.startswith(f"{p['terms']['reach']:.2f}")
        assert f"{p['numbers']['conversations']} of {p['numbers']['window_conversations']}" in reach
        points = 0.0
        for term, cell in zip(("negativity", "growth", "severity", "nps_impact"), terms, strict=True):
            value = p["terms"][term]
            if value is None:
                assert cell == "n/a not enough NPS data"
                continue
            assert cell.startswith(f"{value:.2f} × {p['weights'][term]:.2f}")
            contribution = 100 * p["terms"]["reach"] * p["weights"][term] * value
            assert f"{contribution:.1f} pts" in cell
            points += contribution
        assert points == pytest.approx(p["score"], abs=0.1)  # the terms add up to the score
    # One stacked bar per theme that scores, its parts titled with the terms; a legend names them.
    assert answer.text.count('class="chart stacked-bar"') == sum(1 for p in api["priorities"] if p["score"] > 0)
    assert re.search(r"<rect class=\"part-negativity[^>]*><title>negativity: ", answer.text)
    legend = re.search(r'<ul class="legend"[^>]*>(.*?)</ul>', answer.text, re.S)
    assert legend and text(legend.group(1)) == "Negativity Growth Severity NPS impact"


def test_priorities_level_select_changes_the_rows(console: Any) -> None:
    client, read = console
    seen = {}
    for level in ("theme", "subtheme"):
        query = {"recent_days": "5", "level": level, "end": END}
        api = client.get("/v1/signals/priorities", params=query, headers=read).json()
        seen[level] = list(rows(client.get("/priorities", params=query).text))
        assert seen[level] == [p["theme_id"] for p in api["priorities"]]
    assert seen["theme"] != seen["subtheme"] and "g1" in seen["theme"] and "t1" in seen["subtheme"]


def test_drivers_page_draws_intervals_and_says_not_enough_data(console: Any) -> None:
    client, read = console
    query = {"min_present": "5", "level": "subtheme"}
    api = client.get("/v1/drivers/nps", params=query, headers=read).json()
    answer = client.get("/drivers", params=query)
    assert answer.status_code == 200
    shown = rows(answer.text, within="nps")
    assert list(shown) == [d["theme_id"] for d in api["drivers"]]
    ok = [d for d in api["drivers"] if d["status"] == "ok"]
    assert ok and len(ok) < len(api["drivers"])  # t1, t2 and t3 measured, t4 not
    for d in api["drivers"]:
        cells = shown[d["theme_id"]]
        assert cells[1].startswith(str(d["present"])) and cells[2].startswith(str(d["absent"]))
        if d["status"] == "ok":
            impact, gap = d["removal_impact"], d["present_vs_absent"]
            assert cells[3:] == [
                f"{impact['value']:+.1f}",
                f"{impact['low']:+.1f} to {impact['high']:+.1f}",
                f"{gap['value']:+.1f}",
                f"{gap['low']:+.1f} to {gap['high']:+.1f}",
            ]
        else:
            assert cells[3] == "not enough data (needs 5 with and 5 without)"
    chart = re.search(r'<section class="card driver" id="nps".*?</svg>', answer.text, re.S)
    assert chart and chart.group(0).count('<g class="estimate') == len(ok)
    assert chart.group(0).count(">not enough data</text>") == len(api["drivers"]) - len(ok)
    assert f"NPS {api['score']:.1f} over {api['conversations']} conversations" in text(answer.text)
    # The seeded surveys have no CSAT answer: the CSAT section says so rather than showing nothing.
    csat = client.get("/v1/drivers/csat", params=query, headers=read).json()
    assert csat["conversations"] == 0
    assert "No conversation matching these filters has a CSAT answer" in text(answer.text)


def test_drivers_level_select_changes_the_rows(console: Any) -> None:
    client, read = console
    top = rows(client.get("/drivers", params={"min_present": "5"}).text, within="nps")
    api = client.get("/v1/drivers/nps", params={"min_present": "5"}, headers=read).json()
    assert list(top) == [d["theme_id"] for d in api["drivers"]]
    sub = rows(client.get("/drivers", params={"min_present": "5", "level": "subtheme"}).text, within="nps")
    assert "g1" in top and "t1" not in top and {"t1", "t2"} <= set(sub) and "g1" not in sub


def test_drivers_by_default_need_30_answers_like_the_api(console: Any) -> None:
    client, read = console
    api = client.get("/v1/drivers/nps", headers=read).json()
    shown = rows(client.get("/drivers").text, within="nps")
    assert list(shown) == [d["theme_id"] for d in api["drivers"]]
    for d in api["drivers"]:
        ok = d["status"] == "ok"
        expected = f"{d['removal_impact']['value']:+.1f}" if ok else "not enough data (needs 30 with and 30 without)"
        assert shown[d["theme_id"]][3] == expected


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/emerging", {"recent_days": "0"}, "“Recent days” must be a whole number from 1 to 366"),
        ("/emerging", {"baseline_days": "two"}, "“Baseline days” must be a whole number from 1 to 1,830"),
        ("/priorities", {"recent_days": "400"}, "“Recent days” must be a whole number from 1 to 366"),
        ("/priorities", {"end": "31/05/2026"}, "“Window ends” must be a date like 2026-05-31"),
        ("/emerging", {"level": "topic"}, "“Level” must be theme or subtheme"),
        ("/drivers", {"min_present": "2"}, "“At least” must be a whole number from 5 to 100,000"),
        ("/drivers", {"resamples": "50"}, "“Resamples” must be a whole number from 100 to 5,000"),
        ("/emerging", {"end": "0001-01-05", "recent_days": "30"}, "falls outside the calendar"),
    ],
)
def test_a_window_or_option_it_cannot_use_is_a_400_page_saying_what_to_change(
    console: Any, path: str, params: dict[str, str], says: str
) -> None:
    client, _ = console
    answer = client.get(path, params=params)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert says in text(answer.text).replace("&#34;", '"').replace("&#39;", "'")
    assert "What to do:" in text(answer.text)


def test_empty_fields_of_the_form_are_the_defaults(console: Any) -> None:
    client, read = console
    api = client.get("/v1/themes/emerging", headers=read).json()
    answer = client.get("/emerging", params={"recent_days": "", "baseline_days": "", "end": "", "level": ""})
    assert answer.status_code == 200
    assert "the last 14 days" in text(answer.text) and "against the 56 days before" in text(answer.text)
    assert list(rows(answer.text)) == [t["theme_id"] for t in api["themes"]]

"""The console's Themes pages over the seeded store (tests/api_routes/conftest.py): the hierarchy with
each theme's figures, a theme's page, and rename / merge for admins only.

The seeded conversations (a, b, c, d: 2026-09-01, 09-02, 09-09, 09-10, UTC): a says "my bill is wrong
again" (t1, negative) and "the app keeps crashing" (t2, negative); b "thanks, the bill is sorted" (t1,
positive); c "the app crashed on login" (t2, negative); d nothing with a theme. Segment scores: -0.8
negative, +0.8 positive."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import auth, sign_in_console
from vocmine.schema import Theme
from vocmine.store.protocol import Store
from vocmine_api.console.pages.themes import highlight


def _two_levels(store: Store) -> None:
    """Top-level g1 (sub-themes t1 and t2) and g2 (t3), as a fit with two levels writes them."""
    store.replace_themes(
        [
            Theme(id="g1", label="Bills and apps", keywords=["bill"], level="theme", size=3),
            Theme(id="g2", label="Delivery", keywords=["parcel"], level="theme", size=1),
            Theme(id="t1", label="Wrong bill", keywords=["bill", "sorted"], parent="g1", size=2),
            Theme(id="t2", label="App crashes", keywords=["crash", "crashing"], parent="g1", size=2),
            Theme(id="t3", label="Late parcel", keywords=["parcel"], parent="g2", size=1),
        ],
        "themes-two-levels",
    )


def _row(html: str, theme_id: str) -> str:
    """The list's table row of one top-level theme, its sub-themes' table included."""
    start = html.index(f'<tr class="theme" data-theme="{theme_id}">')
    end = html.find('<tr class="theme"', start + 1)
    return html[start : end if end > 0 else None]


def _cells(row: str) -> list[str]:
    """A top-level row's conversations, share, sentiment mix and mean sentiment, as shown."""
    cells = re.findall(r'<td class="(?:num )?(?:conversations|share|mix|sentiment)">(.*?)</td>', row, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in cells]


def test_the_list_shows_each_theme_with_its_figures(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    answer = client.get("/themes")
    assert answer.status_code == 200
    html = answer.text
    # A one-level catalog: every theme at the top, most mentioned first (ties by id), the empty one last.
    assert html.index('data-theme="t1"') < html.index('data-theme="t2"') < html.index('data-theme="t3"')
    assert "over 4 analysed conversations" in html
    t1, t2, t3 = (_cells(_row(html, t)) for t in ("t1", "t2", "t3"))
    # conversations, share, negative share, mean sentiment
    assert t1[:2] == ["2", "50.0%"] and t1[2].endswith("50% negative") and t1[3] == "+0.00"
    assert t2[:2] == ["2", "50.0%"] and t2[2].endswith("100% negative") and t2[3] == "-0.80"
    assert t3[:2] == ["0", "0.0%"] and t3[3] == "–"
    assert 'aria-label="label t2: 2 of 2 segments negative (100%)"' in html
    # The weekly trend: weeks of 2026-08-31 (a, b) and 2026-09-07 (c).
    assert "label t1: conversations a week from 2026-08-31 to 2026-09-07: 2, 0" in html
    assert "label t2: conversations a week from 2026-08-31 to 2026-09-07: 1, 1" in html
    assert '<a href="/themes/t1">label t1</a>' in html


def test_the_hierarchy_puts_sub_themes_under_their_theme(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    _two_levels(api_store)
    sign_in_console(client, tokens["read"])
    html = client.get("/themes").text
    g1 = _row(html, "g1")
    # a, b and c mention g1's sub-themes: 3 of 4 conversations; 3 of its 4 segments are negative.
    assert _cells(g1)[:2] == ["3", "75.0%"] and "75% negative" in _cells(g1)[2] and _cells(g1)[3] == "-0.40"
    assert "<summary>2 sub-themes</summary>" in g1
    assert '<a href="/themes/t1">Wrong bill</a>' in g1 and '<a href="/themes/t2">App crashes</a>' in g1
    assert _cells(_row(html, "g2"))[:2] == ["0", "0.0%"]
    # Sub-themes are not listed as top-level rows.
    assert html.count('data-theme="t1"') == 1 and html.index('data-theme="t1"') < html.index('data-theme="g2"')


def test_the_list_follows_the_filter_bar(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    html = client.get("/themes", params={"since": "2026-09-07", "channel": "chat", "brand": ""}).text
    assert "over 1 analysed conversations" in html  # c only (d is social)
    assert _cells(_row(html, "t2"))[:2] == ["1", "100.0%"]
    assert _cells(_row(html, "t1"))[:2] == ["0", "0.0%"]


def test_a_theme_page(client: TestClient, tokens: dict[str, str], api_store: Store) -> None:
    _two_levels(api_store)
    sign_in_console(client, tokens["read"])
    answer = client.get("/themes/g1")
    assert answer.status_code == 200
    html = answer.text
    assert "<h1>Bills and apps</h1>" in html
    assert re.search(r'id="theme-conversations">3<', html) and re.search(r'id="theme-share">75.0%<', html)
    # The trend: one line, two weeks, with a point each.
    chart = html[html.index('<svg class="chart line-chart"') :]
    chart = chart[: chart.index("</svg>")]
    # (a week not yet over by the clock of the machine running this is marked *)
    points = re.findall(r"<title>Bills and apps, (2026-[\d-]+)\*?: (\d+)</title>", chart)
    assert points == [("2026-08-31", "2"), ("2026-09-07", "1")]
    # Its sub-themes with their volume; a sub-theme's page names its parent.
    assert '<a href="/themes/t1">Wrong bill</a>' in html and '<a href="/themes/t2">App crashes</a>' in html
    assert 'Part of <a href="/themes/g1">Bills and apps</a>' in client.get("/themes/t2").text
    # Verbatims with the keywords marked, each linked to its conversation.
    assert "my <mark>bill</mark> is wrong again" in html
    assert "the app keeps <mark>crashing</mark>" in html
    assert '<a href="/conversations/c">conversation c</a>' in html
    assert '<a href="/search?theme=g1">search this theme</a>' in html
    # A reader sees no curation forms.
    assert "/rename" not in html and "/merge" not in html


def test_the_trend_breaks_down_into_one_line_per_group(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    _two_levels(api_store)
    sign_in_console(client, tokens["read"])
    html = client.get("/themes/g1", params={"breakdown": "channel"}).text
    assert "<h2" in html and "Trend by channel" in html
    assert '<option value="channel" selected>' in html
    # a and c came by chat, b by e-mail: two lines and a legend naming them, the larger first.
    legend = html[html.index('<ul class="legend">') :]
    legend = legend[: legend.index("</ul>")]
    assert re.findall(r"</span>(\w+)</li>", legend) == ["chat", "email"]
    assert re.search(r"<title>chat, 2026-09-07\*?: 1</title>", html)
    assert re.search(r"<title>email, 2026-08-31\*?: 1</title>", html)
    assert re.search(r"<title>email, 2026-09-07\*?: 0</title>", html)
    bad = client.get("/themes/g1", params={"breakdown": "colour"})
    assert bad.status_code == 400 and "there is no breakdown" in bad.text and "channel, stage, brand" in bad.text


def test_times_and_weeks_are_in_the_persons_zone(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"], tz="Pacific/Auckland")
    html = client.get("/themes/t2").text
    # c started 2026-09-09 00:00 UTC: 12:00 NZST on Wednesday the 9th
    assert "2026-09-09 12:00 NZST" in html
    assert "weeks start on Monday in Pacific/Auckland" in html


def test_an_unknown_theme_is_a_page_saying_where_the_ids_are(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    answer = client.get("/themes/zz9")
    assert answer.status_code == 404
    assert "there is no theme &#39;zz9&#39;" in answer.text and "Themes page (/themes)" in answer.text


def test_an_admin_renames_a_theme_and_the_list_shows_it(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    csrf = sign_in_console(client, tokens["admin"])
    page = client.get("/themes/t2").text
    assert 'action="/themes/t2/rename"' in page and 'action="/themes/t2/merge"' in page
    answer = client.post("/themes/t2/rename", data={"csrf": csrf, "name": "  App crashes  "}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/themes/t2?done=renamed"
    assert "Renamed" in client.get(answer.headers["location"]).text
    assert '<a href="/themes/t2">App crashes</a>' in client.get("/themes").text
    assert "<h1>App crashes</h1>" in client.get("/themes/t2").text
    assert client.get("/v1/themes/t2", headers=auth(tokens["admin"])).json()["theme"]["name"] == "App crashes"
    events = api_store.theme_events("t2")  # type: ignore[attr-defined]
    assert events[-1]["action"] == "rename" and events[-1]["actor"].endswith("(admin key)")


def test_an_empty_name_says_what_to_change(client: TestClient, tokens: dict[str, str]) -> None:
    csrf = sign_in_console(client, tokens["admin"])
    answer = client.post("/themes/t1/rename", data={"csrf": csrf, "name": "   "})
    assert answer.status_code == 400
    assert "The new name was empty: type the name to give the theme." in answer.text
    assert "<h1>label t1</h1>" in answer.text  # the theme's page again, unchanged


def test_an_admin_merges_a_theme_into_this_one(client: TestClient, tokens: dict[str, str], api_store: Store) -> None:
    _two_levels(api_store)
    csrf = sign_in_console(client, tokens["admin"])
    page = client.get("/themes/g1").text
    # Only the other top-level themes can be merged into a top-level theme.
    options = re.findall(r'<option value="(\w+)">[^<]*\(\w+\)</option>', page)
    assert options == ["g2"]
    answer = client.post("/themes/g1/merge", data={"csrf": csrf, "source": "g2"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/themes/g1?done=merged"
    html = client.get("/themes").text
    assert 'data-theme="g2"' not in html  # merged away: no longer listed
    # g2's sub-theme now shows under g1.
    assert "<summary>3 sub-themes</summary>" in _row(html, "g1")
    merged = client.get("/themes/g2").text
    assert 'merged into <a href="/themes/g1">Bills and apps</a>' in merged


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "No theme was chosen: choose the theme to merge into this one."),
        ("t1", "A theme cannot be merged into itself: choose another theme."),
        ("nope", "There is no theme &#39;nope&#39;: choose one from the list."),
    ],
)
def test_a_merge_that_cannot_be_done_says_what_to_change(
    client: TestClient, tokens: dict[str, str], api_store: Store, source: str, problem: str
) -> None:
    csrf = sign_in_console(client, tokens["admin"])
    answer = client.post("/themes/t1/merge", data={"csrf": csrf, "source": source})
    assert answer.status_code == 400 and problem in answer.text
    assert [t.status for t in api_store.list_themes()] == ["active"] * 3


def test_a_theme_of_another_level_cannot_be_merged(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    _two_levels(api_store)
    csrf = sign_in_console(client, tokens["admin"])
    answer = client.post("/themes/g1/merge", data={"csrf": csrf, "source": "t3"})
    assert answer.status_code == 400 and "is not an active theme of the same level" in answer.text


@pytest.mark.parametrize("scope", ["read", "review"])
def test_people_without_the_admin_scope_cannot_rename_or_merge(
    client: TestClient, tokens: dict[str, str], api_store: Store, scope: str
) -> None:
    # (sign_in_console lands on a page that needs read, which a review key lacks: take the token from any page)
    answer = client.post("/sign-in", data={"key": tokens[scope], "next": "/themes/t1"})
    assert answer.status_code == (200 if scope == "read" else 403)
    assert "/rename" not in answer.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', answer.text).group(1)  # type: ignore[union-attr]
    for path, data in (("/themes/t1/rename", {"name": "Hijacked"}), ("/themes/t1/merge", {"source": "t2"})):
        answer = client.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 403 and "lacks the &#39;admin&#39; scope" in answer.text
    assert {t.id: (t.name, t.status) for t in api_store.list_themes()}["t1"] == (None, "active")


def test_a_write_without_the_csrf_token_is_refused(
    client: TestClient, tokens: dict[str, str], api_store: Store
) -> None:
    sign_in_console(client, tokens["admin"])
    for data in ({"name": "No token"}, {"name": "Wrong token", "csrf": "0" * 32}):
        answer = client.post("/themes/t1/rename", data=data)
        assert answer.status_code == 403 and "did not come from this console" in answer.text
    assert client.post("/themes/t1/merge", data={"source": "t2"}).status_code == 403
    assert all(t.name is None and t.status == "active" for t in api_store.list_themes())


def test_signed_out_people_are_sent_to_sign_in(client: TestClient, tokens: dict[str, str]) -> None:
    answer = client.get("/themes/t1", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=%2Fthemes%2Ft1"


def test_highlighting_escapes_the_text_first() -> None:
    marked = highlight("<b>Bill</b> & billing: my bill!", ["bill"])
    assert str(marked) == "&lt;b&gt;<mark>Bill</mark>&lt;/b&gt; &amp; billing: my <mark>bill</mark>!"
    assert str(highlight("fish & chips & fishing", ["fish & chips", "fish"])) == (
        "<mark>fish &amp; chips</mark> &amp; fishing"
    )
    assert str(highlight("a <script>", [])) == "a &lt;script&gt;"

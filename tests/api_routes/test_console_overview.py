"""The overview page at ``/``: headline figures, charts over time, emerging themes and priorities,
for the filters of the bar and a period, on the seeded store (both backends)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import ROWS, sign_in_console
from vocmine.insights.scores import ScorePoint
from vocmine.schema import SurveyScores
from vocmine.services.insights import priority_table
from vocmine.store.protocol import Store
from vocmine.store.query import ScoreTotal
from vocmine.testing.factories import analysis, survey_conversation, vectors
from vocmine_api.console.pages.overview import headlines

FIRST_DAY = datetime(2026, 9, 1, tzinfo=UTC)  # day 0 of the seeded rows (vocmine.testing.factories)
# The day after the last seeded conversation: where the period ends by default. Tests that are not
# about that default give it as Until, so they also run on the emulator, whose ``latest_start`` differs.
END = "2026-09-11"
LATEST_START_DIFFERS = pytest.mark.emulator_differs(
    "max and min aggregations on a date field skip dates sent as ISO 8601 strings, so the period cannot end "
    "at the latest conversation"
)


def metric(page: str, name: str) -> str:
    """The text of one headline figure, whitespace collapsed."""
    found = re.search(rf'<li class="metric" data-metric="{name}">(.*?)</li>', page, re.S)
    assert found, f"no headline figure {name!r}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def chart_points(page: str, series: str) -> dict[str, str]:
    """A line chart's points as the page labels them (``<title>series, label: value</title>``)."""
    return dict(re.findall(rf"<title>{re.escape(series)}, ([^:<]+): ([^<]+)</title>", page))


def expected(rows: list[tuple]) -> dict[str, object]:  # type: ignore[type-arg]
    """The headline figures the seeded rows imply: (id, day, parts, label, flags, channel, nps)."""
    labels = [r[3] for r in rows]
    answers = [r[6] for r in rows if r[6] is not None]
    promoters = sum(a >= 9 for a in answers)
    detractors = sum(a <= 6 for a in answers)
    return {
        "conversations": len(rows),
        "negative": f"{100 * labels.count('negative') / len(rows):.1f}%",
        "positive": f"{100 * labels.count('positive') / len(rows):.1f}%",
        "nps": f"{100 * (promoters - detractors) / len(answers):+.0f}",
        "nps_responses": len(answers),
    }


@LATEST_START_DIFFERS
def test_the_overview_shows_the_seeded_figures_for_a_read_key(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    answer = client.get("/")
    assert answer.status_code == 200
    page = answer.text
    want = expected(ROWS)
    assert metric(page, "conversations").startswith(f"Conversations {want['conversations']} in the period")
    assert metric(page, "negative").startswith(f"Negative {want['negative']} of {len(ROWS)} analysed conversations")
    assert metric(page, "positive").startswith(f"Positive {want['positive']}")
    assert metric(page, "nps").startswith(f"NPS {want['nps']} {want['nps_responses']} responses")
    # The seeded rows carry no CSAT answer: said as such, not shown as 0.
    assert metric(page, "csat").startswith("CSAT – no responses")
    # Nothing before the seeded days: no change to show.
    assert "no previous figure to compare" in metric(page, "conversations")
    # 90 days (the default) ending the day after the last conversation (day 9), charted per week:
    # 2026-09-01 is a Tuesday, so days 0 and 1 fall in the week of Monday 31 Aug, days 8 and 9 in 7 Sep.
    last_day = FIRST_DAY + timedelta(days=max(r[1] for r in ROWS))
    assert f"to {last_day.date().isoformat()}</strong> (90 days" in page
    weeks = chart_points(page, "Conversations")
    assert weeks["31 Aug"] == str(sum(1 for r in ROWS if r[1] < 6))
    assert weeks["07 Sep"] == str(sum(1 for r in ROWS if r[1] >= 6))
    assert set(weeks.values()) - {"0"} == {"2"}  # every other week of the period is empty, drawn as 0
    assert chart_points(page, "NPS")["31 Aug"] == f"{100 * (1 - 1) / 2:,.0f}"  # a: 0 (detractor), b: 10 (promoter)
    assert "CSAT, " not in page  # no CSAT point anywhere: the chart says there is no data
    # The top priorities, each linked to its theme, with the score the API's use case gives.
    _, table = priority_table(client.app.state.store)  # type: ignore[attr-defined]
    for p in table[:5]:
        assert f'href="/themes/{p.theme_id}">label {p.theme_id}</a>' in page
        assert f"{p.score:,.1f}" in page
    assert 'href="/emerging"' in page and 'href="/priorities"' in page


def test_a_filter_changes_the_figures(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    page = client.get("/", params={"channel": "chat", "until": END}).text
    chat = [r for r in ROWS if r[5] == "chat"]
    want = expected(chat)
    assert metric(page, "conversations").startswith(f"Conversations {want['conversations']} ")
    assert metric(page, "negative").startswith(f"Negative {want['negative']}")
    assert metric(page, "nps").startswith(f"NPS {want['nps']} {want['nps_responses']} responses")
    assert "<option selected>chat</option>" in page  # the bar keeps the choice


def test_the_change_against_the_previous_period(client: TestClient, tokens: dict[str, str], api_store: Store) -> None:
    """One conversation 100 days before the first seeded one (in the previous 90 days), with a
    promoter's NPS and a CSAT answer; one in the period with a CSAT answer of 2."""
    before = survey_conversation("early", -100, ["all good"], channel="email")
    before = before.model_copy(update={"survey": SurveyScores(nps=10, csat=4.0)})
    during = survey_conversation("rated", 2, ["meh"], channel="email").model_copy(
        update={"survey": SurveyScores(csat=2)}
    )
    api_store.upsert_conversations([before, during])
    results = [analysis(before, label="positive"), analysis(during, label="neutral")]
    api_store.write_analyses(results, [vectors(1, seed=1), vectors(1, seed=2)])
    sign_in_console(client, tokens["read"])
    page = client.get("/", params={"until": END}).text  # Until alone: the 90 days before it
    now = len(ROWS) + 1
    assert (
        metric(page, "conversations")
        == f"Conversations {now} in the period +{100 * (now / 1 - 1):.0f}% (from 1) vs previous period"
    )
    # NPS: −33 now (1 promoter, 2 detractors of 3), +100 before: 133 points down.
    assert metric(page, "nps") == "NPS -33 3 responses -133 pts vs previous period"
    assert '<span class="change worse">-133 pts' in page
    # CSAT: 2.00 now from one answer, 4.00 before.
    assert metric(page, "csat") == "CSAT 2.00 1 response -2.00 vs previous period"


@pytest.mark.emulator_differs(
    "date_histogram ignores a named time_zone such as America/New_York and buckets in UTC; max on a date "
    "field skips ISO 8601 strings, so the period cannot end at the latest conversation"
)
def test_a_shorter_period_is_charted_per_day_in_the_persons_time_zone(
    client: TestClient, tokens: dict[str, str]
) -> None:
    # The seeded conversations start at midnight UTC: the evening before in New York.
    sign_in_console(client, tokens["read"], tz="America/New_York")
    page = client.get("/", params={"period": "30"}).text
    assert 'aria-label="Conversations per day"' in page
    assert "2026-08-11 to 2026-09-09</strong> (30 days" in page
    days = {label: n for label, n in chart_points(page, "Conversations").items() if n != "0"}
    assert days == {"31 Aug": "1", "01 Sep": "1", "08 Sep": "1", "09 Sep": "1"}
    assert 'value="30" selected' in page


def test_from_and_until_replace_the_period(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    page = client.get("/", params={"since": "2026-09-02", "until": "2026-09-10"}).text
    # Days 1 and 8 (b and c) fall in 2 to 9 September; the previous 8 days hold a (day 0).
    assert "2026-09-02 to 2026-09-09</strong> (8 days, from the filter bar" in page
    assert metric(page, "conversations").startswith("Conversations 2 in the period +100% (from 1)")


def test_a_period_not_offered_is_refused_with_what_to_choose(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in_console(client, tokens["read"])
    answer = client.get("/", params={"period": "7"})
    assert answer.status_code == 400
    assert "“Period” must be one of 30, 90, 180, 365 days" in html.unescape(answer.text)


def test_an_unsigned_visit_is_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/", params={"channel": "chat"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2F%3Fchannel%3Dchat"


def test_a_change_too_small_to_show_reads_as_no_change() -> None:
    def point(promoters: int, detractors: int) -> ScorePoint:
        return ScorePoint.of(
            ScoreTotal(
                conversations=1000, analysed=1000, negative=400, neutral=400, positive=200,
                nps_responses=1000, promoters=promoters, detractors=detractors, csat_responses=0, csat_sum=0.0,
            )
        )  # fmt: skip

    # NPS −46.0 now against −45.9 before: rounded to whole points, no change (not "-0").
    (nps,) = [h for h in headlines(point(270, 730), point(270, 729)) if h.name == "NPS"]
    assert (nps.value, nps.change, nps.tone) == ("-46", "±0 pts", "same")

"""``GET /v1/scores/trends``: volume, sentiment mix, NPS and CSAT per bucket, for dashboards."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api_routes.conftest import ROWS, auth
from vocmine.schema import SurveyScores
from vocmine.store.protocol import Store
from vocmine.testing.factories import survey_conversation


def test_weekly_points_and_the_total_follow_the_seeded_rows(client: TestClient, tokens: dict[str, str]) -> None:
    answer = client.get("/v1/scores/trends", headers=auth(tokens["read"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["interval"], body["tz"]) == ("week", "UTC")
    total = body["total"]
    labels = [r[3] for r in ROWS]
    answers = [r[6] for r in ROWS if r[6] is not None]
    assert total["conversations"] == total["analysed"] == len(ROWS)
    assert (total["negative"], total["neutral"], total["positive"]) == tuple(
        labels.count(label) for label in ("negative", "neutral", "positive")
    )
    assert total["negative_share"] == round(labels.count("negative") / len(ROWS), 4)
    promoters, detractors = sum(a >= 9 for a in answers), sum(a <= 6 for a in answers)
    assert (total["nps_responses"], total["promoters"], total["detractors"]) == (len(answers), promoters, detractors)
    assert total["nps"] == round(100 * (promoters - detractors) / len(answers), 2)
    # No CSAT answer in the seeded rows: no mean rather than 0.
    assert total["csat_responses"] == 0 and total["csat"] is None
    # 2026-09-01 (day 0) is a Tuesday: days 0–1 are the week of 31 August, days 8–9 that of 7 September.
    weeks = {p["bucket"]: p["conversations"] for p in body["points"]}
    assert weeks == {
        "2026-08-31": sum(1 for r in ROWS if r[1] < 6),
        "2026-09-07": sum(1 for r in ROWS if r[1] >= 6),
    }
    later = body["points"][1]
    assert later["nps_responses"] == 1 and later["nps"] == -100.0  # c's 3; d gave no answer


def test_a_filter_and_a_day_interval(client: TestClient, tokens: dict[str, str]) -> None:
    body = client.get(
        "/v1/scores/trends", params={"channel": "chat", "interval": "day"}, headers=auth(tokens["read"])
    ).json()
    chat = [r for r in ROWS if r[5] == "chat"]
    assert body["total"]["conversations"] == len(chat)
    assert body["total"]["negative_share"] == 1.0 and body["total"]["positive_share"] == 0.0
    assert [p["bucket"] for p in body["points"]] == [f"2026-09-{1 + r[1]:02d}" for r in chat]


def test_csat_and_unanalysed_conversations_count(client: TestClient, tokens: dict[str, str], api_store: Store) -> None:
    """A conversation stored but not analysed yet counts in the volume and the survey answers, not in
    the sentiment mix."""
    fresh = survey_conversation("fresh", 2, ["just arrived"], channel="email")
    api_store.upsert_conversations([fresh.model_copy(update={"survey": SurveyScores(nps=9, csat=5)})])
    total = client.get("/v1/scores/trends", headers=auth(tokens["read"])).json()["total"]
    assert (total["conversations"], total["analysed"]) == (len(ROWS) + 1, len(ROWS))
    assert total["negative_share"] == round(sum(r[3] == "negative" for r in ROWS) / len(ROWS), 4)
    assert (total["csat_responses"], total["csat"]) == (1, 5.0)
    assert total["promoters"] == sum(1 for r in ROWS if r[6] is not None and r[6] >= 9) + 1


@pytest.mark.emulator_differs("date_histogram ignores a named time_zone such as Asia/Tokyo and buckets in UTC")
def test_buckets_start_at_midnight_in_the_time_zone_asked_for(client: TestClient, tokens: dict[str, str]) -> None:
    # The seeded conversations start at midnight UTC, which is 09:00 the same day in Tokyo and
    # 20:00 the day before in New York.
    def days(tz: str) -> list[str]:
        answer = client.get("/v1/scores/trends", params={"interval": "day", "tz": tz}, headers=auth(tokens["read"]))
        assert answer.json()["tz"] == tz
        return [p["bucket"] for p in answer.json()["points"]]

    assert days("Asia/Tokyo") == ["2026-09-01", "2026-09-02", "2026-09-09", "2026-09-10"]
    assert days("America/New_York") == ["2026-08-31", "2026-09-01", "2026-09-08", "2026-09-09"]


def test_what_a_caller_must_change(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/v1/scores/trends").status_code == 401
    unknown = client.get("/v1/scores/trends", params={"tz": "Mars/Olympus"}, headers=auth(tokens["read"]))
    assert unknown.status_code == 400 and "unknown time zone 'Mars/Olympus'" in unknown.json()["error"]["message"]
    wrong = client.get("/v1/scores/trends", params={"interval": "year"}, headers=auth(tokens["read"]))
    assert wrong.status_code == 400

"""Themes in the embedded store: catalog, curation with its audit trail, assignment, and the
aggregations behind trends, emerging themes, priorities and drivers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vocmine.errors import ConfigError, NotFoundError
from vocmine.store.query import ConversationFilter
from vocmine.testing.factories import analysis, catalog, seed_analysed, survey_conversation, vectors


class ThemesContract:
    """The store contract for the theme catalog, theme assignment and the aggregations insights read.

    A backend's test class inherits it and gives a ``store`` fixture."""

    def test_catalog_round_trip_rename_and_merge_with_audit(self, store):
        seed_analysed(store, [("a", 0, [("bill wrong", "t1"), ("app broken", "t2")], "negative", (), "chat", None)])
        store.replace_themes(catalog("t1", "t2", "t3"), "v1")
        assert store.themes_version() == "v1"
        assert [t.id for t in store.list_themes()] == ["t1", "t2", "t3"]
        renamed = store.rename_theme("t1", "Billing errors", actor="ana")
        assert renamed.display_name == "Billing errors"
        merged = store.merge_themes(["t2"], "t1", actor="ana")
        assert merged.size == 20
        themes = {t.id: t for t in store.list_themes()}
        assert themes["t2"].status == "merged" and themes["t2"].merged_into == "t1"
        # The merged theme's segments moved; filters by theme see them under the target.
        page = store.stats(ConversationFilter(themes=["t1"]))
        assert page.conversations == 1
        assert store.stats(ConversationFilter(themes=["t2"])).conversations == 0
        events = store.theme_events()
        assert [(e["action"], e["theme_id"], e["actor"]) for e in events] == [
            ("rename", "t1", "ana"),
            ("merge", "t2", "ana"),
            ("absorb", "t1", "ana"),
        ]
        # A later merge of t1 into t3 re-points t2 as well.
        store.merge_themes(["t1"], "t3", actor="bo")
        assert {t.id: t.merged_into for t in store.list_themes()}["t2"] == "t3"

    def test_curation_errors_say_what_to_change(self, store):
        store.replace_themes(catalog("t1", "t2"), "v1")
        with pytest.raises(NotFoundError, match="no theme 't9'"):
            store.rename_theme("t9", "x", actor="a")
        with pytest.raises(ConfigError, match="into itself"):
            store.merge_themes(["t1"], "t1", actor="a")
        with pytest.raises(ConfigError, match="cannot be empty"):
            store.rename_theme("t1", "  ", actor="a")
        store.merge_themes(["t2"], "t1", actor="a")
        with pytest.raises(ConfigError, match="t2 is merged"):
            store.merge_themes(["t1"], "t2", actor="a")

    def test_aggregates_count_conversations_once_and_segments_each(self, store):
        seed_analysed(
            store,
            [
                (
                    "a",
                    0,
                    [("bill wrong", "t1"), ("bill still wrong", "t1"), ("app", "t2")],
                    "negative",
                    ("escalation",),
                    "chat",
                    0,
                ),
                ("b", 1, [("bill", "t1")], "positive", (), "email", 10),
                ("c", 8, [("app crash", "t2")], "negative", ("churn_risk",), "chat", 3),
                ("d", 8, [("hello", None)], "neutral", (), "chat", None),
            ],
        )
        overall = {a.theme_id: a for a in store.theme_aggregates()}
        assert overall["t1"].conversations == 2 and overall["t1"].segments == 3
        assert overall["t1"].negative_segments == 2
        assert overall["t1"].sentiment_sum == pytest.approx(-0.8 * 2 + 0.8)
        assert overall["t1"].flagged_conversations == 1 and overall["t1"].severity_sum == 5
        assert overall["t2"].conversations == 2 and overall["t2"].severity_sum == 5 + 3
        weekly = store.theme_aggregates(interval="week")
        # 2026-09-01 is a Tuesday: days 0 and 1 fall in the week of Monday 08-31, day 8 in 09-07.
        assert {(a.theme_id, a.bucket) for a in weekly} == {
            ("t1", "2026-08-31"),
            ("t2", "2026-08-31"),
            ("t2", "2026-09-07"),
        }
        by_channel = {(a.theme_id, a.group): a.conversations for a in store.theme_aggregates(breakdown="channel")}
        assert by_channel == {("t1", "chat"): 1, ("t1", "email"): 1, ("t2", "chat"): 2}
        totals = {(t.bucket, t.group): t.conversations for t in store.conversation_totals(interval="week")}
        assert totals == {("2026-08-31", None): 2, ("2026-09-07", None): 2}
        survey = {s.conversation_id: s for s in store.iter_survey_themes()}
        assert set(survey) == {"a", "b", "c"}
        assert survey["a"].themes == ["t1", "t2"] and survey["a"].nps == 0
        assert store.theme_aggregates(ConversationFilter(channels=["email"]))[0].theme_id == "t1"

    def test_score_totals_count_volume_sentiment_nps_and_csat_per_bucket(self, store):
        from vocmine.schema import Conversation, SurveyScores, Turn
        from vocmine.store.query import ScoreTotal

        assert store.score_totals() == []

        def scored(cid: str, day: int, channel: str, nps: int | None, csat: float | None) -> Conversation:
            c = survey_conversation(cid, day, ["about my order"], channel=channel)
            return c.model_copy(update={"survey": SurveyScores(nps=nps, csat=csat)})

        analysed = {
            "a": (scored("a", 0, "chat", 0, 2.0), "negative"),
            "b": (scored("b", 1, "email", 10, None), "positive"),
            "c": (scored("c", 8, "chat", 3, None), "negative"),
            "d": (scored("d", 8, "chat", None, None), "neutral"),
        }
        unanalysed = [
            scored("e", 9, "chat", 9, 4.0),
            Conversation(id="f", channel="chat", source="test", turns=[Turn(role="customer", text="no start")]),
        ]
        store.upsert_conversations([c for c, _ in analysed.values()] + unanalysed)
        results = [analysis(c, label=label) for c, label in analysed.values()]
        store.write_analyses(results, [vectors(len(a.segments), seed=n) for n, a in enumerate(results)])

        def counts(row: ScoreTotal) -> tuple[int, ...]:
            return (
                row.conversations, row.analysed, row.negative, row.neutral, row.positive,
                row.nps_responses, row.promoters, row.detractors, row.csat_responses,
            )  # fmt: skip

        (overall,) = store.score_totals()
        # Volume and survey answers count every matching conversation; sentiment only the analysed ones.
        assert overall.bucket is None and counts(overall) == (6, 4, 2, 1, 1, 4, 2, 2, 2)
        assert overall.csat_sum == pytest.approx(6.0)
        # 2026-09-01 is a Tuesday: days 0 and 1 fall in the week of Monday 08-31, days 8 and 9 in 09-07;
        # the conversation without a start time is in no bucket.
        weekly = {row.bucket: row for row in store.score_totals(interval="week")}
        assert set(weekly) == {"2026-08-31", "2026-09-07"}
        assert counts(weekly["2026-08-31"]) == (2, 2, 1, 0, 1, 2, 1, 1, 1)
        assert counts(weekly["2026-09-07"]) == (3, 2, 1, 1, 0, 2, 1, 1, 1)
        assert weekly["2026-09-07"].csat_sum == pytest.approx(4.0)
        daily = [(row.bucket, row.conversations) for row in store.score_totals(interval="day")]
        assert daily == [("2026-09-01", 1), ("2026-09-02", 1), ("2026-09-09", 2), ("2026-09-10", 1)]
        (email,) = store.score_totals(ConversationFilter(channels=["email"]))
        assert counts(email) == (1, 1, 0, 0, 1, 1, 1, 0, 0)
        (negative,) = store.score_totals(ConversationFilter(sentiments=["negative"]), "month")
        assert negative.bucket == "2026-09-01" and counts(negative) == (2, 2, 2, 0, 0, 2, 0, 2, 1)
        late = ConversationFilter(since=datetime(2026, 9, 9, tzinfo=UTC))
        assert [counts(row) for row in store.score_totals(late)] == [(3, 2, 1, 1, 0, 2, 1, 1, 1)]

    def test_aggregates_by_a_theme_map_count_a_conversation_once_per_reported_theme(self, store):
        """Top-level insights: sub-themes t1 and t2 report as g1, t3 is left out of the map."""
        seed_analysed(
            store,
            [
                ("a", 0, [("bill wrong", "t1"), ("charged twice", "t2")], "negative", ("escalation",), "chat", 3),
                ("b", 1, [("bill late", "t2")], "neutral", (), "email", 9),
                ("c", 2, [("app broken", "t3")], "negative", (), "chat", 5),
            ],
        )
        top = {"t1": "g1", "t2": "g1"}
        (g1,) = store.theme_aggregates(theme_map=top)
        assert (g1.theme_id, g1.conversations, g1.segments, g1.flagged_conversations) == ("g1", 2, 3, 1)
        assert g1.severity_sum == 5  # the escalated conversation once, not once per sub-theme
        weekly = store.theme_aggregates(interval="week", breakdown="channel", theme_map=top)
        assert {(a.theme_id, a.group, a.conversations) for a in weekly} == {("g1", "chat", 1), ("g1", "email", 1)}
        survey = {s.conversation_id: s.themes for s in store.iter_survey_themes(theme_map=top)}
        assert survey == {"a": ["g1"], "b": ["g1"], "c": []}
        table = store.survey_table(theme_map=top)
        assert table.themes == ["g1"] and table.member.sum() == 2
        assert store.theme_aggregates(theme_map={}) == []

    def test_agent_aggregates_feed_the_coaching_view(self, store):
        from vocmine.insights.agents import agent_view

        conversations = [
            survey_conversation("a", 0, ["bill wrong", "thanks"]).model_copy(
                update={"agent_id": "ana", "team_id": "billing"}
            ),
            survey_conversation("b", 1, ["app broken"]).model_copy(update={"agent_id": "ana", "team_id": "billing"}),
            survey_conversation("c", 8, ["slow", "still slow"]).model_copy(
                update={"agent_id": "bo", "team_id": "billing"}
            ),
        ]
        store.upsert_conversations(conversations)
        analyses = [
            analysis(conversations[0], label="negative", flags=("escalation",)),  # improved trajectory
            analysis(conversations[1], label="positive"),
            analysis(conversations[2], label="negative"),
        ]
        store.write_analyses(analyses, [vectors(len(a.segments)) for a in analyses])
        points = {p.key: p for p in agent_view(store.agent_aggregates("agent"))}
        assert points["ana"].conversations == 2 and points["ana"].flag_rate == 0.5
        assert points["ana"].mean_sentiment == 0.0  # -0.8 and +0.8
        assert points["ana"].improved_share == 1.0 and points["ana"].with_trajectory == 1
        team = agent_view(store.agent_aggregates("team", interval="week"))
        assert [(p.key, p.bucket, p.conversations) for p in team] == [
            ("billing", "2026-08-31", 2),
            ("billing", "2026-09-07", 1),
        ]

    def test_latest_start_follows_the_filter(self, store):
        assert store.latest_start() is None
        seed_analysed(
            store,
            [
                ("a", 0, [("x", "t1")], "negative", (), "chat", None),
                ("b", 5, [("y", "t1")], "neutral", (), "email", None),
            ],
        )
        assert store.latest_start() == datetime(2026, 9, 6, tzinfo=UTC)
        assert store.latest_start(ConversationFilter(channels=["chat"])) == datetime(2026, 9, 1, tzinfo=UTC)

    def test_buckets_start_at_midnight_in_the_time_zone_asked_for(self, store):
        from vocmine.schema import Conversation, Turn

        # Berlin is UTC+1 in winter and UTC+2 in summer: 23:30 UTC on 1 March is 00:30 on 2 March
        # there, and 22:30 UTC on 1 July is 00:30 on 2 July (winter's offset would say 23:30, 1 July).
        starts = {
            "late-winter": datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
            "noon-winter": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            "late-summer": datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
        }
        conversations = [
            Conversation(id=cid, channel="chat", source="test", started_at=at, turns=[Turn(role="customer", text="x")])
            for cid, at in starts.items()
        ]
        store.upsert_conversations(conversations)
        store.write_analyses([analysis(c) for c in conversations], [vectors(1, seed=n) for n in range(3)])
        store.assign_themes([(f"{c.id}:0:0", "t1") for c in conversations])

        def days(tz: str | None) -> dict[str, int]:
            return {t.bucket: t.conversations for t in store.conversation_totals(None, "day", tz=tz) if t.bucket}

        assert days(None) == {"2026-03-01": 1, "2026-03-02": 1, "2026-07-01": 1}
        assert days("Europe/Berlin") == {"2026-03-02": 2, "2026-07-02": 1}
        themed = {
            (a.theme_id, a.bucket): a.conversations for a in store.theme_aggregates(None, "day", tz="Europe/Berlin")
        }
        assert themed == {("t1", "2026-03-02"): 2, ("t1", "2026-07-02"): 1}
        # 1 March 2026 is a Sunday: in New York (UTC−5) the late one is still Sunday, in Berlin Monday.
        weeks = {t.bucket for t in store.conversation_totals(None, "week", tz="America/New_York") if t.bucket}
        assert "2026-02-23" in weeks
        # Months too, labelled by their first day.
        months = {t.bucket for t in store.conversation_totals(None, "month", tz="Asia/Tokyo")}
        assert months == {"2026-03-01", "2026-07-01"}

"""Analysis results in the embedded store: round trip, staleness, filters, vectors, stats."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.errors import StoreError
from vocmine.schema import (
    UNSUPPORTED_LANGUAGE,
    Turn,
)
from vocmine.store.query import ConversationFilter, SearchQuery, versions_key
from vocmine.testing.factories import VERSIONS, analysis, conversation, vectors


class AnalysisContract:
    """The store contract for analysis results, segments and their embeddings.

    A backend's test class inherits it and gives a ``store`` fixture."""

    def test_round_trip_keeps_every_value_and_the_vectors(self, store):
        c = conversation("a", "my bill is wrong", "thanks, sorted")
        store.upsert_conversations([c])
        written = analysis(c, flags=("escalation",))
        matrix = vectors(2)
        store.write_analyses([written], [matrix])
        assert store.get_analyses(["a"])["a"] == written
        ids, stored = next(store.iter_segment_vectors())
        assert ids == ["a:0:0", "a:1:0"]
        assert np.array_equal(stored, matrix)
        by_id = store.get_segment_vectors(["a:1:0", "nope"])
        assert list(by_id) == ["a:1:0"] and np.array_equal(by_id["a:1:0"], matrix[1])

    def test_reanalysis_replaces_segments_and_flags(self, store):
        c = conversation("a", "my bill is wrong", "still wrong")
        store.upsert_conversations([c])
        store.write_analyses([analysis(c, flags=("escalation", "churn_risk"))], [vectors(2)])
        store.write_analyses([analysis(c, label="positive", flags=())], [None])
        again = store.get_analyses(["a"])["a"]
        assert again.flags == [] and {s.sentiment for s in again.segments} == {"positive"}
        assert list(store.iter_segment_vectors()) == []  # written without vectors this time
        assert store.analysis_stats().by_signal == {}

    def test_unanalysed_means_new_changed_or_made_by_other_models(self, store):
        a, b = conversation("a", "refund please"), conversation("b", "love it")
        store.upsert_conversations([a, b])
        key = versions_key(VERSIONS)
        assert [c.id for c in store.iter_unanalysed(key)] == ["a", "b"]
        store.write_analyses([analysis(a), analysis(b, label="positive")], [vectors(1), vectors(1)])
        assert list(store.iter_unanalysed(key)) == [] and store.count_unanalysed(key) == 0

        changed = a.model_copy(update={"turns": [*a.turns, Turn(role="customer", text="any news?")]})
        store.upsert_conversations([changed])
        assert [c.id for c in store.iter_unanalysed(key)] == ["a"]
        assert store.analysis_stats().stale == 1

        retrained = versions_key({**VERSIONS, "journey": "j2"})
        assert store.count_unanalysed(retrained) == 2
        assert store.count_unanalysed(key, ConversationFilter(channels=["email"])) == 0

    def test_iterating_while_writing_visits_each_conversation_once(self, store):
        many = [conversation(f"c{i:03}", f"text {i}") for i in range(450)]
        store.upsert_conversations(many)
        seen = []
        for c in store.iter_unanalysed(versions_key(VERSIONS)):
            seen.append(c.id)
            store.write_analyses([analysis(c)], [None])
        assert seen == [c.id for c in many]

    def test_filters_on_analysis(self, store):
        a, b, c = conversation("a", "angry"), conversation("b", "happy", "still happy"), conversation("c", "meh")
        store.upsert_conversations([a, b, c])
        store.write_analyses(
            [
                analysis(a, flags=("escalation",)),
                analysis(b, label="positive", stage="advocacy", flags=("strong_praise",)),
            ],
            [None, None],
        )

        def ids(**conditions) -> list[str]:
            page = store.search(SearchQuery(filter=ConversationFilter(**conditions)))
            return sorted(h.conversation.id for h in page.hits)

        assert ids(sentiments=["negative"]) == ["a"]
        assert ids(stages=["advocacy", "support"]) == ["a", "b"]
        assert ids(signals=["escalation"]) == ["a"]
        assert ids(min_severity=4) == ["a"]
        assert ids(trajectories=["improved"]) == ["b"]
        assert ids() == ["a", "b", "c"]  # unanalysed c is only excluded by analysis conditions
        full_text = store.search(SearchQuery(text="happy", filter=ConversationFilter(sentiments=["positive"])))
        assert [h.conversation.id for h in full_text.hits] == ["b"]

    def test_stats_count_what_analysis_said(self, store):
        a, b = conversation("a", "angry"), conversation("b", "happy")
        store.upsert_conversations([a, b])
        store.write_analyses(
            [
                analysis(a, flags=("escalation", "churn_risk")),
                analysis(b, label="positive", versions={**VERSIONS, "journey": "j2"}),
            ],
            [None, None],
        )
        stats = store.analysis_stats()
        assert (stats.conversations, stats.analysed, stats.stale, stats.segments) == (2, 2, 0, 2)
        assert stats.by_sentiment == {"negative": 1, "positive": 1}
        assert stats.by_signal == {"churn_risk": 1, "escalation": 1}
        assert stats.model_versions["journey"] == ["j1", "j2"]

    def test_a_language_the_models_do_not_read_is_counted_apart(self, store):
        english, french = conversation("en", "my bill is wrong"), conversation("fr", "ma facture est fausse")
        store.upsert_conversations([english, french])
        unread = analysis(french).model_copy(
            update={"sentiment": None, "segments": [], "stage": UNSUPPORTED_LANGUAGE, "stage_confidence": 0.0}
        )
        store.write_analyses([analysis(english), unread], [vectors(1), None])
        assert store.get_analyses(["fr"])["fr"] == unread
        stats = store.analysis_stats()
        assert stats.analysed == 2 and stats.unsupported_language == 1
        # No numbers for it: its sentiment counts as none, like a conversation with no customer words.
        assert stats.by_sentiment.get("negative") == 1 and sum(stats.by_sentiment.values()) == 2
        assert stats.segments == 1
        assert stats.model_dump()["unsupported_language"] == 1  # served by the API as a field

    def test_bad_writes_are_refused_whole(self, store):
        a = conversation("a", "one")
        store.upsert_conversations([a])
        ghost = analysis(conversation("ghost", "not stored"))
        with pytest.raises(StoreError, match="only conversations that are in this store"):
            store.write_analyses([analysis(a), ghost], [None, None])
        assert store.get_analyses(["a"]) == {}  # the batch is atomic
        with pytest.raises(StoreError, match="1 segments but 3 vectors"):
            store.write_analyses([analysis(a)], [vectors(3)])

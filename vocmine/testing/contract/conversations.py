"""Conversations in every store backend: upserts, full-text search with the users' query syntax,
filters, cursor paging, turn keys and stats."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest

from vocmine.errors import ConfigError
from vocmine.schema import Conversation, SerializedConversation, SurveyScores, Turn
from vocmine.store.query import ConversationFilter, SearchQuery, UpsertOutcome
from vocmine.testing.factories import T0, dated_conversation


class ConversationsContract:
    """The store contract for conversations, search, facets and stats.

    A backend's test class inherits it and gives a ``store`` fixture."""

    @pytest.fixture(params=["written", "bulk loaded"])
    def filled(self, store, request):
        # Each test of what a filled store answers runs on one written plainly and on one loaded
        # inside ``bulk_load`` (SQLite builds an empty store's indexes after the load).
        loading = store.bulk_load() if request.param == "bulk loaded" else contextlib.nullcontext()
        with loading:
            _fill(store)
        return store

    def test_upserts_are_idempotent_and_report_changes(self, store):
        first = dated_conversation("x", "hello")
        assert store.upsert_conversations([first]) == [UpsertOutcome.NEW]
        assert store.upsert_conversations([first]) == [UpsertOutcome.UNCHANGED]
        changed = first.model_copy(update={"subject": "new subject"})
        assert store.upsert_conversations([changed]) == [UpsertOutcome.UPDATED]
        assert store.get_conversation("x") == changed
        assert store.stats().conversations == 1

    def test_a_merge_sees_what_is_stored_when_it_writes(self, store):
        first = dated_conversation("m", "my parcel is late")
        store.upsert_conversations([first])
        seen: list[Conversation | None] = []

        def merge(stored: Conversation | None, incoming: Conversation) -> Conversation:
            seen.append(stored)
            if stored is None:
                return incoming
            known = {t.text for t in stored.turns}
            return stored.model_copy(
                update={"turns": [*stored.turns, *(t for t in incoming.turns if t.text not in known)]}
            )

        # Another writer stored a reply after this one read the conversation: the merge is given the
        # stored version (with that reply), so nothing written before is lost.
        store.upsert_conversations(
            [first.model_copy(update={"turns": [*first.turns, Turn(role="customer", text="any news?")]})]
        )
        reply = first.model_copy(update={"turns": [*first.turns, Turn(role="customer", text="still nothing")]})
        assert store.upsert_conversations([reply], merge=merge) == [UpsertOutcome.UPDATED]
        assert seen[0] is not None and [t.text for t in seen[0].turns][-1] == "any news?"
        assert [t.text for t in store.get_conversation("m").turns][-2:] == ["any news?", "still nothing"]
        new = dated_conversation("n", "first message")
        assert store.upsert_conversations([new], merge=merge) == [UpsertOutcome.NEW]
        assert seen[-1] is None

    def test_a_merge_may_hand_back_the_conversation_serialized(self, store):
        """What an ingestion worker serialized ahead is stored as the conversation itself would be:
        searchable, read back equal, and unchanged when the same content comes again."""
        fresh = dated_conversation("s", "the router drops every evening")

        def serialized(stored: Conversation | None, incoming: Conversation) -> SerializedConversation:
            return SerializedConversation.of(incoming)

        assert store.upsert_conversations([fresh], merge=serialized) == [UpsertOutcome.NEW]
        assert store.get_conversation("s") == fresh
        assert [h.conversation.id for h in store.search(SearchQuery(text="router")).hits] == ["s"]
        assert store.upsert_conversations([fresh]) == [UpsertOutcome.UNCHANGED]  # the same content hash
        changed = fresh.model_copy(update={"turns": [*fresh.turns, Turn(role="customer", text="and mornings")]})
        assert store.upsert_conversations([changed], merge=serialized) == [UpsertOutcome.UPDATED]
        assert [h.conversation.id for h in store.search(SearchQuery(text="mornings")).hits] == ["s"]

    def test_full_text_searches_customer_words_only_with_stemming_and_highlights(self, filled):
        page = filled.search(SearchQuery(text="refunds"))
        assert {h.conversation.id for h in page.hits} == {"a", "b"}  # not "e": the agent said refund
        assert page.total == 2
        assert all("<mark>" in h.highlights[0] for h in page.hits)

    def test_query_syntax_phrases_or_and_exclusion(self, filled):
        assert {h.conversation.id for h in filled.search(SearchQuery(text='"charged twice"')).hits} == {"b"}
        assert {h.conversation.id for h in filled.search(SearchQuery(text="crashes OR twice")).hits} == {"b", "c"}
        assert {h.conversation.id for h in filled.search(SearchQuery(text="refund -twice")).hits} == {"a"}
        assert {h.conversation.id for h in filled.search(SearchQuery(text="rembourse*")).hits} == {"d"}

    def test_fts_operators_typed_by_users_are_searched_as_words(self, filled):
        for hostile in ["customer_text:refund", "NEAR refund", '"unbalanced', "refund AND NOT", "^refund", "{x}: y"]:
            filled.search(SearchQuery(text=hostile))  # never an FTS5 syntax error
        with pytest.raises(ConfigError, match="never closes"):  # our syntax's error, saying what to change
            filled.search(SearchQuery(text="NEAR(refund"))
        for wordless in ("*", '""'):
            with pytest.raises(ConfigError, match="no words"):
                filled.search(SearchQuery(text=wordless))
        with pytest.raises(ConfigError, match="only excludes"):
            filled.search(SearchQuery(text="-refund"))

    def test_filters(self, filled):
        def ids(**kwargs: Any) -> set[str]:
            return {h.conversation.id for h in filled.search(SearchQuery(filter=ConversationFilter(**kwargs))).hits}

        assert ids(channels=["email"]) == {"b"}
        assert ids(brands=["Acme"]) == {"a", "c"}
        assert ids(languages=["fr"]) == {"d"}
        assert ids(team_ids=["billing"]) == {"a"}
        assert ids(since=T0 + timedelta(days=2), until=T0 + timedelta(days=4)) == {"c", "d"}
        assert {
            h.conversation.id
            for h in filled.search(SearchQuery(text="refund", filter=ConversationFilter(channels=["chat"]))).hits
        } == {"a"}

    def test_cursor_pagination_visits_every_match_once(self, filled):
        seen, cursor = [], None
        while True:
            page = filled.search(SearchQuery(limit=2, cursor=cursor))
            seen += [h.conversation.id for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == ["e", "d", "c", "b", "a"]  # newest first
        first = filled.search(SearchQuery(text="refund", limit=1))
        second = filled.search(SearchQuery(text="refund", limit=1, cursor=first.next_cursor))
        assert {first.hits[0].conversation.id, second.hits[0].conversation.id} == {"a", "b"}
        assert second.next_cursor is None

    def test_bad_cursor_is_a_clear_error(self, filled):
        with pytest.raises(ConfigError, match="cursor"):
            filled.search(SearchQuery(cursor="not-a-cursor"))

    def test_a_rewritten_conversation_keeps_only_its_new_turn_keys(self, store):
        def thread(*keys: str) -> Conversation:
            turns = [Turn(key=key, role="customer", text=f"message {key}") for key in keys]
            return Conversation(id="t", channel="email", source="eml", turns=turns)

        store.upsert_conversations([thread("mid-1", "mid-2")])
        store.upsert_conversations([thread("mid-2", "mid-3")])  # a later run rewrites it
        assert store.conversation_ids_for_turn_keys(["mid-1", "mid-2", "mid-3"]) == {"mid-2": "t", "mid-3": "t"}
        store.upsert_conversations([thread("mid-4"), thread("mid-5")])  # twice in one batch: the last wins
        assert store.conversation_ids_for_turn_keys(["mid-2", "mid-3", "mid-4", "mid-5"]) == {"mid-5": "t"}

    def test_turn_keys_and_stats(self, store):
        threaded = Conversation(
            id="t", channel="email", source="eml", turns=[Turn(key="mid-1", role="customer", text="x")]
        )
        store.upsert_conversations([threaded, dated_conversation("s", "y", survey=SurveyScores(csat=4))])
        assert store.conversation_ids_for_turn_keys(["mid-1", "mid-2"]) == {"mid-1": "t"}
        stats = store.stats()
        assert stats.conversations == 2 and stats.turns == 3 and stats.customer_turns == 2
        assert stats.by_channel == {"chat": 1, "email": 1} and stats.with_survey == 1


def _fill(store: Any) -> None:
    """Five conversations of several channels, brands, languages and days, for the read tests."""
    store.upsert_conversations(
        [
            dated_conversation("a", "My refund never arrived", day=0, brand="Acme", language="en", team_id="billing"),
            dated_conversation("b", "Refund please, charged twice", day=1, channel="email", language="en"),
            dated_conversation("c", "The app crashes on login", day=2, brand="Acme", language="en"),
            dated_conversation("d", "Remboursement pas reçu", day=3, language="fr", survey=SurveyScores(nps=2)),
            dated_conversation("e", "Great service", day=4, agent_text="refund issued", language="en"),
        ]
    )

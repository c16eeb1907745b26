"""Segments: sentences with exact offsets, short fragments merged, long ones split."""

from __future__ import annotations

from vocmine.analysis.segmenter import MAX_WORDS, segment_conversation, split_text
from vocmine.schema import Conversation, Turn


def _texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_text(text)]


def test_sentences_and_offsets():
    text = "The agent was lovely. But my refund still hasn't arrived! Why does it take 3.5 weeks?"
    assert _texts(text) == [
        "The agent was lovely.",
        "But my refund still hasn't arrived!",
        "Why does it take 3.5 weeks?",
    ]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "I spoke to Mr. Jones at approx. 3pm today. He said the U.S. office will call."
    assert _texts(text) == ["I spoke to Mr. Jones at approx. 3pm today.", "He said the U.S. office will call."]


def test_short_fragments_merge_forward_and_the_last_backward():
    text = "Hi,\nMy internet has been down since Monday.\nThanks!"
    assert _texts(text) == ["Hi,\nMy internet has been down since Monday.\nThanks!"]
    assert _texts("Ok.") == ["Ok."]


def test_long_segments_split_at_clauses():
    clause = "the engineer came late and left without fixing anything at all today"
    text = "; ".join([clause] * 10) + "."
    spans = split_text(text)
    assert len(spans) > 1
    assert all(len(text[s:e].split()) <= MAX_WORDS for s, e in spans)
    assert sum(text[s:e].count("engineer") for s, e in spans) == 10
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_only_customer_turns_and_offsets_point_into_the_turn():
    conversation = Conversation(
        id="c1",
        channel="chat",
        source="test",
        turns=[
            Turn(role="agent", text="Hello, how can I help you today?"),
            Turn(role="customer", text="My bill doubled this month. I want an explanation please."),
        ],
    )
    segments = segment_conversation(conversation)
    assert [s.turn_index for s in segments] == [1, 1]
    for segment in segments:
        assert conversation.turns[segment.turn_index].text[segment.start : segment.end] == segment.text
    assert segments[0].id == "c1:1:0"

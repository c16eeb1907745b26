"""Content segments: the word rule catches obvious filler and nothing topical; the shipped head
separates filler from content on the shared embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis.content.filter import ContentFilter
from vocmine.analysis.content.rules import is_rule_filler
from vocmine.analysis.encoder import Encoder
from vocmine.errors import ConfigError


@pytest.mark.parametrize(
    "text",
    ["Thanks!", "@AmericanAir thank you so much!!", "Hi team,", "Ok, noted.", "Any update?", "Regards, Anna",
     "XXXX XXXX", "https://t.co/abc #fail", "Still not fixed.", "lol"],
)  # fmt: skip
def test_the_rule_calls_pure_filler_filler(text: str) -> None:
    assert is_rule_filler(text)


@pytest.mark.parametrize(
    "text",
    ["Refund please", "wifi down again", "Thanks for the refund", "My bill is wrong", "Hi, my flight was cancelled"],
)
def test_the_rule_never_calls_a_named_subject_filler(text: str) -> None:
    assert not is_rule_filler(text)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def test_the_shipped_head_keeps_topics_and_drops_filler(encoder: Encoder) -> None:
    head = ContentFilter.load()
    assert head.encoder == encoder.version
    filler = ["Thank you so much for your help, have a lovely day!", "Please help!"]
    content = [
        "My refund for the cancelled flight has not arrived.",
        "The router keeps dropping the connection every evening.",
        "Why was I charged twice for my subscription?",
    ]
    texts = filler + content
    flags = head.is_filler(texts, encoder.encode(texts))
    assert flags.tolist() == [True] * len(filler) + [False] * len(content)


def test_vectors_of_another_size_are_refused_with_a_hint() -> None:
    head = ContentFilter.load()
    with pytest.raises(ConfigError, match="retrain"):
        head.is_filler(["hello there my bill"], np.zeros((1, 16), dtype=np.float32))

"""Texts go through the transformer in token-count order and come back in the order given."""

from __future__ import annotations

import numpy as np

from vocmine.analysis.batching import in_batches, token_order
from vocmine.analysis.encoder import DEFAULT_MODEL, Encoder, model_location
from vocmine.analysis.sentiment.model import SentimentModel


def test_texts_are_ordered_by_tokens_not_characters():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_location(DEFAULT_MODEL))
    texts = [
        "the parcel never arrived and nobody answers",  # 43 characters, 9 tokens
        "#A7-QX9 @zp_3k t.co/Xq7",  # 23 characters, many word pieces
        "ok",
    ]
    counts = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
    assert counts[1] > counts[0] and len(texts[1]) < len(texts[0])
    assert token_order(tokenizer, texts, 256) == [2, 0, 1]
    assert token_order(tokenizer, [], 256) == []
    assert token_order(tokenizer, ["a b c d e f", "a b c d e f g h"], 4) == [0, 1]  # cut at 4: a tie, input order


def test_batches_are_consecutive_slices():
    assert list(in_batches([4, 2, 0, 1, 3], 2)) == [[4, 2], [0, 1], [3]]
    assert list(in_batches([], 3)) == []


def test_vectors_and_sentiment_come_back_in_the_order_given():
    texts = [
        "#A7-QX9 @zp_3k t.co/Xq7 where is it",
        "ok",
        "I have been waiting three weeks for a refund that you promised would take five days",
        "great service, thank you!",
        "why was I charged twice",
    ]
    encoder = Encoder(batch_size=2)
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    # Equal up to what padding changes in bfloat16 (other texts' vectors are at cosine < 0.8).
    assert (together * alone).sum(axis=1).min() > 0.9999
    model = SentimentModel(batch_size=2)
    vectors, predictions = model.analyse(texts)
    assert (vectors * alone).sum(axis=1).min() > 0.9999
    assert [p.label for p in predictions] == [model.analyse([text])[1][0].label for text in texts]

"""The sentiment training pool never contains a TweetEval validation tweet, nor a tweet twice; the
written escalation examples are well formed and never contain a phrasing kept apart for measuring."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from vocmine.analysis.sentiment.data import fold, load_tweeteval_val, normalise_tweet, training_pool
from vocmine.analysis.sentiment.head_refit import load_examples

PHRASINGS = Path(__file__).resolve().parents[3] / "bench" / "data" / "escalation_phrasings.txt"

needs_data = pytest.mark.skipif(not (SHARED_DATA / "tweeteval_sentiment").exists(), reason="../shared/data missing")


def test_normalisation_matches_tweeteval_conventions():
    assert normalise_tweet("@AcmeHelp see https://t.co/x1 now") == "@user see http now"
    assert fold("  Hello   @Bob ") == "hello @user"


@needs_data
def test_training_pool_excludes_validation_and_duplicates():
    pool, dropped = training_pool(SHARED_DATA)
    val = {fold(e.text) for e in load_tweeteval_val(SHARED_DATA / "tweeteval_sentiment")}
    keys = [fold(e.text) for e in pool]
    assert not val.intersection(keys)
    assert len(keys) == len(set(keys))
    assert dropped["in_tweeteval_val"] > 0  # the SemEval pool does contain validation tweets
    assert {e.source for e in pool} >= {"airline", "twitter-2016test-A"}


def test_written_escalation_examples_are_apart_from_the_measured_phrasings():
    texts, labels = load_examples()
    assert len(texts) >= 400 and set(labels.tolist()) == {0, 1, 2}
    assert len({fold(t) for t in texts}) == len(texts)
    measured = [
        line for line in PHRASINGS.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
    ]
    assert not {fold(normalise_tweet(p)) for p in measured} & {fold(t) for t in texts}

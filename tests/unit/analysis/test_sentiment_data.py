"""The sentiment training pool never contains a TweetEval validation tweet, nor a tweet twice (our
labelled threats excepted: they are repeated on purpose)."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED_DATA
from vocmine.analysis.sentiment.data import fold, load_tweeteval_val, normalise_tweet, training_pool

needs_data = pytest.mark.skipif(not (SHARED_DATA / "tweeteval_sentiment").exists(), reason="../shared/data missing")


def test_normalisation_matches_tweeteval_conventions():
    assert normalise_tweet("@AcmeHelp see https://t.co/x1 now") == "@user see http now"
    assert fold("  Hello   @Bob ") == "hello @user"


@needs_data
def test_training_pool_excludes_validation_and_duplicates():
    pool, dropped = training_pool(SHARED_DATA, threat_repeat=4)
    val = {fold(e.text) for e in load_tweeteval_val(SHARED_DATA / "tweeteval_sentiment")}
    keys = [fold(e.text) for e in pool]
    assert not val.intersection(keys)
    tweets = [fold(e.text) for e in pool if e.source != "labelled-threat"]
    assert len(tweets) == len(set(tweets))
    threats = [fold(e.text) for e in pool if e.source == "labelled-threat"]
    assert threats and all(threats.count(t) == 4 for t in threats)
    assert all(e.label == 0 for e in pool if e.source == "labelled-threat")  # negative
    assert dropped["in_tweeteval_val"] > 0  # the SemEval pool does contain validation tweets
    assert {e.source for e in pool} >= {"airline", "twitter-2016test-A"}
    shipped, _ = training_pool(SHARED_DATA)  # the shipped model's pool: no threats
    assert "labelled-threat" not in {e.source for e in shipped}

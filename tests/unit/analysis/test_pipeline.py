"""The analysis pipeline with the shipped models, and `analyze_store` over a real store."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DATA
from tests.unit.analysis.test_sentiment_hf import tiny_model
from vocmine.analysis.encoder import EmbeddingCache, Encoder
from vocmine.analysis.journey.model import JourneyHead
from vocmine.analysis.pipeline import Analyzer
from vocmine.analysis.sentiment.hf import HuggingFaceSentiment
from vocmine.analysis.sentiment.model import SentimentModel
from vocmine.analysis.signals.detector import SignalDetector
from vocmine.errors import ConfigError
from vocmine.schema import UNSUPPORTED_LANGUAGE, Conversation, Turn
from vocmine.services.analysis import analyze_store, build_analyzer
from vocmine.store.query import versions_key

COMPLAINT = Conversation(
    id="chat-1",
    channel="chat",
    source="test",
    turns=[
        Turn(role="customer", text="My broadband has been down for four days. This is the third time I've called!"),
        Turn(role="agent", text="I'm sorry, I've booked an engineer for tomorrow morning."),
        Turn(role="customer", text="Brilliant, thank you so much, that's really helpful."),
    ],
)
AGENT_ONLY = Conversation(
    id="call-2", channel="call", source="test", turns=[Turn(role="agent", text="Hello, you're through to support.")]
)


@pytest.fixture(scope="module")
def sentiment():
    return SentimentModel()


@pytest.fixture
def analyzer(sentiment, tmp_path):
    return Analyzer(
        sentiment, JourneyHead.load(), SignalDetector.load(), cache=EmbeddingCache(tmp_path / "cache.sqlite")
    )


def test_a_conversation_gets_segments_sentiment_trajectory_stage_and_flags(analyzer):
    [(analysis, vectors)] = analyzer.analyse([COMPLAINT])
    assert len(analysis.segments) == len(vectors) >= 3
    for segment in analysis.segments:
        assert COMPLAINT.turns[segment.turn_index].text[segment.start : segment.end] == segment.text
        assert COMPLAINT.turns[segment.turn_index].role == "customer"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert analysis.segments[0].sentiment == "negative" and analysis.segments[-1].sentiment == "positive"
    assert analysis.sentiment is not None and analysis.sentiment.trajectory == "improved"
    assert "repeat_contact" in {f.signal for f in analysis.flags}
    assert analysis.stage in {"support", "unknown"} and 0 <= analysis.stage_confidence <= 1
    assert set(analysis.model_versions) == {"segmenter", "encoder", "sentiment", "journey", "signals", "languages"}
    assert analysis.content_hash == COMPLAINT.content_hash()


def test_nothing_from_the_customer_means_no_sentiment(analyzer):
    [(analysis, vectors)] = analyzer.analyse([AGENT_ONLY])
    assert analysis.sentiment is None and analysis.stage == "unknown"
    assert analysis.segments == [] and len(vectors) == 0


FRENCH = Conversation(
    id="chat-fr",
    channel="chat",
    source="test",
    language="fr",
    turns=[
        Turn(role="customer", text="C'est inadmissible, je vais résilier mon abonnement, je veux parler à un manager."),
        Turn(role="agent", text="Je suis désolé."),
    ],
)


def test_a_language_the_models_do_not_read_gets_no_numbers_only_the_rules(analyzer):
    [(analysis, vectors)] = analyzer.analyse([FRENCH])
    assert analysis.stage == UNSUPPORTED_LANGUAGE and analysis.stage_confidence == 0
    assert analysis.sentiment is None and analysis.segments == [] and len(vectors) == 0
    assert all(flag.detected_by == ["rule"] for flag in analysis.flags)
    assert analyzer.counters.encoded == 0  # nothing was read by a model

    english = COMPLAINT.model_copy(update={"language": "en"})
    undetermined = COMPLAINT.model_copy(update={"id": "short", "language": "und"})
    for analysis, _ in analyzer.analyse([english, undetermined]):
        assert analysis.stage != UNSUPPORTED_LANGUAGE and analysis.sentiment is not None


def test_a_multilingual_setup_widens_the_languages(sentiment, tmp_path):
    analyzer = Analyzer(sentiment, JourneyHead.load(), SignalDetector.load(), languages=frozenset({"en", "fr"}))
    [(analysis, _)] = analyzer.analyse([FRENCH])
    assert analysis.stage != UNSUPPORTED_LANGUAGE and analysis.segments
    assert analysis.model_versions["languages"] == "en,fr"  # so widening them redoes the unread ones


def test_the_cache_serves_a_reanalysis_without_running_the_model(analyzer):
    first = analyzer.analyse([COMPLAINT, AGENT_ONLY])
    encoded = analyzer.counters.encoded
    again = analyzer.analyse([COMPLAINT, AGENT_ONLY])
    assert analyzer.counters.encoded == encoded  # nothing new went through the model
    assert np.allclose(first[0][1], again[0][1])
    assert [s.sentiment_score for s in first[0][0].segments] == [s.sentiment_score for s in again[0][0].segments]


def test_analyze_store_does_what_needs_doing_and_no_more(analyzer, ingest, store):
    ingest(DATA / "chat")
    total = store.stats().conversations
    report = analyze_store(store, analyzer, batch_size=2)
    assert report.conversations == total and store.analysis_stats().analysed == total
    assert analyze_store(store, analyzer).conversations == 0  # up to date

    analyzer.journey.version = "journey-retrained"  # what a retrained head looks like to the store
    redone = analyze_store(store, analyzer)
    assert redone.conversations == total and redone.encoded == 0  # new head, cached vectors
    assert store.count_unanalysed(versions_key(analyzer.model_versions)) == 0
    assert store.analysis_stats().model_versions["journey"] == ["journey-retrained"]


def test_a_hugging_face_sentiment_model_runs_beside_the_encoder(tmp_path):
    path = tiny_model(tmp_path / "hf", ["negative", "neutral", "positive"], favoured=1)
    analyzer = Analyzer(HuggingFaceSentiment(str(path)), JourneyHead.load(), SignalDetector.load(), encoder=Encoder())
    [(analysis, vectors)] = analyzer.analyse([COMPLAINT])
    assert {s.sentiment for s in analysis.segments} == {"neutral"}  # the tiny model's answer
    assert np.allclose(vectors, Encoder().encode([s.text for s in analysis.segments]), atol=1e-5)
    assert analysis.model_versions["sentiment"].startswith("hf:")


def test_a_journey_head_for_another_encoder_is_refused(sentiment):
    head = JourneyHead.load()
    head.encoder = "some-other-encoder"
    with pytest.raises(ConfigError, match="retrain"):
        Analyzer(sentiment, head, SignalDetector.load())


def test_settings_choose_the_models(settings, tmp_path):
    default = build_analyzer(settings, cache=False)
    assert default.sentiment.shares_encoder and default.encoder is None
    assert default.signals.heads is not None and default.languages == {"en"}
    rules_only = build_analyzer(
        settings.model_copy(update={"signal_heads": "none", "model_languages": ["en", "fr"]}), cache=False
    )
    assert rules_only.signals.heads is None and rules_only.languages == {"en", "fr"}
    assert rules_only.model_versions["signals"].startswith("rules-")
    path = tiny_model(tmp_path / "hf", ["NEG", "POS"], favoured=0)
    other = build_analyzer(settings.model_copy(update={"sentiment_model": str(path)}), cache=False)
    assert isinstance(other.sentiment, HuggingFaceSentiment) and other.encoder is not None


def test_after_a_theme_fit_new_segments_get_the_nearest_theme(analyzer, tmp_path):
    from vocmine.analysis.themes.catalog import build_model
    from vocmine.analysis.themes.discovery import Cluster, Discovery

    [(_, vectors)] = analyzer.analyse([COMPLAINT])
    # A two-theme model whose centroids are the first and the last segment's own vectors.
    clusters = [Cluster(["down"], "down", vectors[0], 1), Cluster(["thanks"], "thanks", vectors[-1], 1)]
    discovery = Discovery(np.array([0, 1]), np.ones(2), clusters, 2, 1, 0.0)
    model, _, _ = build_model(discovery, vectors[[0, -1]], version="v1", encoder_version="e", previous=None)
    analyzer.themes = lambda _texts, matrix: model.assign(matrix)[0]
    [(analysis, _)] = analyzer.analyse([COMPLAINT])
    assert analysis.segments[0].theme_id == model.active_ids[0]
    assert analysis.segments[-1].theme_id == model.active_ids[1]
    assert "themes" not in analysis.model_versions  # a re-fit must not make every analysis stale

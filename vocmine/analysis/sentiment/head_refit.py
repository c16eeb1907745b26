"""Refit the sentiment head so it reads threats and escalations as negative:
``vocmine train sentiment --head-only`` (and the last step of ``vocmine train sentiment``).

Why: threats and demands ("I will be contacting my lawyer.", "Put me through to your supervisor.")
are negative even when no word in them is, and tweet corpora hardly contain them, so the fine-tuned
model scored most of them neutral. The real messages our labellers marked as threats did not help
(the model already read 96% of them as negative: they carry negative words). What it lacks are the
plain-worded ones, so we wrote them: ``models/sentiment/escalation_examples.jsonl`` holds 260
negative threats, demands, ultimatums and announcements of leaving, with 160 neutral and positive
messages that use the same words without hostility (so "please transfer me to billing" stays
neutral). ``bench/data/escalation_phrasings.txt``, written separately, is never trained on: it
measures the result.

How: the tuned layer stays as it is; only the linear head over its mean-pooled output is refitted,
as a class-weighted multinomial logistic regression on the training tweets plus the written
examples, each example counted ``EXAMPLE_REPEAT`` times. Refitting the head alone costs one pass over
the tweets (no gradient through the layer), changes nothing else, and keeps the int8 layer as served.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vocmine.analysis.sentiment.data import LABELS, Example, load_tweeteval_val, normalise_tweet, training_pool
from vocmine.resources import model_dir

EXAMPLES = model_dir("sentiment") / "escalation_examples.jsonl"
# Each written example counts this many times against ~60,000 tweets. Chosen on 2026-12-01 as the
# largest count whose TweetEval validation macro recall stays at least 0.3 point above the fine-tuned
# head's 0.7142 (retraining the same recipe moves it by about 0.25 point): counts 1-6 and 8 gave
# 0.7203, 0.7189, 0.7195, 0.7186, 0.7163, 0.7158, 0.7110, while 5-fold cross-validated accuracy on
# the written examples rose 0.736, 0.752, 0.769, 0.779 (1-4) and 0.788 (6). The held-apart phrasings
# were not used to choose it.
EXAMPLE_REPEAT = 4
C = 1.0


def load_examples(path: Path = EXAMPLES) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [normalise_tweet(row["text"]) for row in rows], np.array([LABELS.index(row["label"]) for row in rows])


def fit_head(
    x_tweets: np.ndarray, y_tweets: np.ndarray, x_examples: np.ndarray, y_examples: np.ndarray, repeat: int
) -> tuple[np.ndarray, np.ndarray]:
    """(weight, bias) of a class-weighted logistic regression on the tweets and the written examples,
    each example counted ``repeat`` times; class weights from the tweets, as in fine-tuning."""
    from sklearn.linear_model import LogisticRegression

    counts = np.bincount(y_tweets, minlength=len(LABELS))
    weights = {i: float(counts.sum() / (len(LABELS) * counts[i])) for i in range(len(LABELS))}
    head = LogisticRegression(C=C, max_iter=5000, class_weight=weights).fit(
        np.concatenate([x_tweets] + [x_examples] * repeat), np.concatenate([y_tweets] + [y_examples] * repeat)
    )
    return head.coef_, head.intercept_


def scores(x: np.ndarray, truth: list[int], weight: np.ndarray, bias: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score, recall_score

    predicted = (x @ weight.T + bias).argmax(1)
    return {
        "macro_recall": round(float(recall_score(truth, predicted, average="macro")), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
    }


def refit_head(
    data: Path,
    directory: Path,
    *,
    repeat: int = EXAMPLE_REPEAT,
    holdout: Callable[[Example], bool] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, object]:
    """Refit the head of the layers in ``directory`` in place and record it in their card. Tweets for
    which ``holdout`` is true are left out and scored instead (the held-out airline folds)."""
    import torch
    from safetensors.torch import load_file, save_file

    from vocmine.analysis.sentiment.model import SentimentModel

    started = time.perf_counter()
    model = SentimentModel(directory)
    pool, _ = training_pool(data)
    held = [e for e in pool if holdout and holdout(e)]
    pool = [e for e in pool if not (holdout and holdout(e))]
    texts, labels = load_examples()
    val = load_tweeteval_val(data / "tweeteval_sentiment")
    log(f"reading {len(pool):,} tweets, {len(texts)} written examples and {len(val):,} validation tweets")
    weight, bias = fit_head(
        model.head_inputs([e.text for e in pool]),
        np.array([e.label for e in pool]),
        model.head_inputs(texts),
        labels,
        repeat,
    )
    tensors = load_file(str(directory / "sentiment_layers.safetensors"))
    before = tensors["head.weight"].numpy(), tensors["head.bias"].numpy()
    refit: dict[str, object] = {"written_examples": len(texts), "example_repeat": repeat, "C": C, "tweets": len(pool)}
    for name, part in (("tweeteval_val", val), ("heldout", held)):
        if part:
            x, truth = model.head_inputs([e.text for e in part]), [e.label for e in part]
            refit[f"{name}_before"] = scores(x, truth, *before)
            refit[f"{name}_after"] = scores(x, truth, weight, bias)
    tensors["head.weight"] = torch.tensor(weight, dtype=torch.float32).contiguous()
    tensors["head.bias"] = torch.tensor(bias, dtype=torch.float32).contiguous()
    save_file(tensors, str(directory / "sentiment_layers.safetensors"))
    card = json.loads((directory / "sentiment_layers.json").read_text(encoding="utf-8"))
    # A new head is a new model: the version changes, so cached sentiment of the old head is not reused.
    card["version"] = f"{str(card['version']).split('+')[0]}+escalation-{repeat}"
    card["head_refit"] = refit | {
        "layers_read_as": model.version,
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    (directory / "sentiment_layers.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    log(f"head refitted: {card['head_refit']}")
    return card

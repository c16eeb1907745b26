"""Quality of the analysis models on the labelled data in ../shared/data: one table, one JSON file.

    python bench/quality.py --data ../shared/data [--out bench/results/quality.json] [--only themes ...]

``--only`` runs some sections and keeps the others' last figures in the JSON file.

Measured now:

* journey stage – 5-fold cross-validated macro-F1 of the head's recipe on seed + hand-labelled real
  messages, reported for the real part (``vocmine/analysis/journey/train.py``);
* signals – 5-fold cross-validated precision, recall and F1 per signal and macro-F1 on the 2,400
  hand-labelled real messages of ``models/signals/labels.jsonl`` (texts read from ../shared/data by
  id), for the learned heads, the shipped rules, both combined as the analysis combines them, and
  the rules as they were before the heads (``--old-rules REV``, read from git) on the same messages
  (``vocmine/analysis/signals/train.py``); and the shipped detector on the older 100-tweet test
  sample (``labelled_test_sample.jsonl``, one labeller, none of its tweets in the training set);

* themes – discovery (``vocmine/analysis/themes/discovery.py``, shipped settings, not told the number of
  intents) on the 10,003 queries of banking77's train split, embedded with the default encoder:
  NMI and ARI against the 77 intents with unassigned queries counted as one group of their own,
  number of themes, unassigned share; BERTopic with default settings on the same vectors, and the
  min-cluster-size rule at half and double its share, in the same run.

* sentiment – the shipped model (``models/sentiment/``), the model shipped at ``--old-sentiment REV``
  (read from git) and VADER, in the same run, on the TweetEval validation split (macro-averaged
  recall, the leaderboard's metric, and macro-F1), and the share of
  ``bench/data/escalation_phrasings.txt`` (threats and demands we wrote, never trained on) scored
  negative; macro-F1 on held-out airline folds, from ``bench/sentiment_airline_folds.py`` (one training run per fold);
  ``bench/sentiment_probe.py`` measures the other candidate approaches.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FOLDS = ROOT / "bench" / "results" / "sentiment_airline_folds.json"
OLD_TEST_SAMPLE = ROOT / "models" / "signals" / "labelled_test_sample.jsonl"
ESCALATION_PHRASINGS = ROOT / "bench" / "data" / "escalation_phrasings.txt"


def signal_quality(data: Path, old_rules: str) -> dict[str, object]:
    import subprocess
    import tempfile

    import numpy as np

    from vocmine.analysis.encoder import Encoder
    from vocmine.analysis.signals.heads import SIGNALS
    from vocmine.analysis.signals.train import build_set, cross_validate, precision_recall_f1, rule_flags

    encoder = Encoder()
    labelled = build_set(data, encoder)
    results: dict[str, object] = {"messages": len(labelled.keys), "cv": cross_validate(labelled)}
    before = subprocess.run(
        ["git", "show", f"{old_rules}:vocmine/analysis/signals/signal_rules.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".toml", encoding="utf-8") as handle:
        handle.write(before)
        handle.flush()
        flags = rule_flags(labelled.texts, Path(handle.name)).astype(bool)
    truth = labelled.labels.astype(bool)
    per_signal = {s: precision_recall_f1(truth[:, j], flags[:, j]) for j, s in enumerate(SIGNALS)}
    results["rules_before"] = {
        "rev": old_rules,
        "per_signal": per_signal,
        "macro_f1": round(float(np.mean([v["f1"] for v in per_signal.values()])), 3),
    }
    results["old_test_sample"] = _old_test_sample(data, encoder)
    return results


def _old_test_sample(data: Path, encoder: object) -> dict[str, object]:
    """The shipped detector (rules + heads) on the 100 tweets labelled before the heads existed."""
    from vocmine.analysis import segmenter
    from vocmine.analysis.real_texts import load_real_texts
    from vocmine.analysis.signals.detector import SignalDetector
    from vocmine.analysis.signals.train import precision_recall_f1
    from vocmine.schema import Conversation, Turn

    texts = load_real_texts(data, sources=("twcs", "airline"))
    rows = [json.loads(line) for line in OLD_TEST_SAMPLE.read_text(encoding="utf-8").splitlines() if line]
    detector = SignalDetector.load()
    found = []
    for row in rows:
        conversation = Conversation(
            id=row["id"],
            channel="social",
            source="t",
            turns=[Turn(role="customer", text=texts[(row["source"], row["id"])])],
        )
        segments = segmenter.segment_conversation(conversation)
        vectors = encoder.encode([s.text for s in segments])  # type: ignore[attr-defined]
        found.append({f.signal for f in detector.detect(conversation, segments, vectors)})
    import numpy as np

    names = sorted({s for r in rows for s in r["signals"]} | {s for f in found for s in f})
    return {
        name: precision_recall_f1(np.array([name in r["signals"] for r in rows]), np.array([name in f for f in found]))
        for name in names
    }


def sentiment_quality(data: Path, old: str) -> dict[str, object]:
    import subprocess
    import tempfile

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
    with tempfile.TemporaryDirectory() as tmp:  # the layers and head as shipped at ``old``
        for name in ("sentiment_layers.safetensors", "sentiment_layers.json"):
            shown = subprocess.run(
                ["git", "show", f"{old}:models/sentiment/{name}"], cwd=ROOT, capture_output=True, check=True
            )
            (Path(tmp) / name).write_bytes(shown.stdout)
        before_model = SentimentModel(Path(tmp))
        before = [LABELS.index(p.label) for p in before_model.predict(texts)]
        before_phrasings = before_model.predict(_phrasings())
    baseline = vader(texts)
    results: dict[str, object] = {"model": model.version, "examples": len(val), "before_rev": old}
    for name, predicted in (("model", ours), ("model_float32", float32), ("before", before), ("vader", baseline)):
        results[name + "_macro_recall"] = round(float(recall_score(truth, predicted, average="macro")), 4)
        results[name + "_macro_f1"] = round(float(f1_score(truth, predicted, average="macro")), 4)
    phrasings = _phrasings()
    negative = [p.label == "negative" for p in model.predict(phrasings)]
    results["escalation_phrasings"] = len(phrasings)
    results["escalation_phrasings_negative_share"] = round(sum(negative) / len(phrasings), 4)
    results["escalation_phrasings_before_negative_share"] = round(
        sum(p.label == "negative" for p in before_phrasings) / len(phrasings), 4
    )
    results["escalation_phrasings_vader_negative_share"] = round(
        sum(label == LABELS.index("negative") for label in vader(phrasings)) / len(phrasings), 4
    )
    return results


def journey_quality(data: Path, old: str) -> dict[str, object]:
    import tempfile

    from vocmine.analysis.journey.train import train

    with tempfile.TemporaryDirectory() as tmp:  # measure the recipe; leave the shipped head alone
        results = train(data, Path(tmp) / "head.json")
    results["head_before"] = _journey_head_before(data, old)
    return results


def _journey_head_before(data: Path, old: str) -> dict[str, object]:
    """The head shipped at ``old`` (trained on 199 real texts), staging the real messages of the two
    two-pass label files (models/signals/labels.jsonl, models/journey/stage_labels.jsonl), none of
    which it saw, as it staged conversations: the mean of its segments' probabilities."""
    import subprocess

    import numpy as np
    from sklearn.metrics import f1_score

    from vocmine.analysis.encoder import Encoder
    from vocmine.analysis.journey.model import STAGES
    from vocmine.analysis.real_texts import READERS, load_real_texts
    from vocmine.analysis.segmenter import split_text

    head = json.loads(
        subprocess.run(
            ["git", "show", f"{old}:models/journey/journey_head.json"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    )
    weights, bias = np.array(head["weights"]), np.array(head["bias"])
    texts = load_real_texts(data, sources=READERS)
    rows = [
        json.loads(line)
        for labels in (ROOT / "models" / "signals" / "labels.jsonl", ROOT / "models" / "journey" / "stage_labels.jsonl")
        for line in labels.read_text().splitlines()
    ]
    rows = [r for r in rows if r["stage"] in STAGES and r["source"] != "bitext"]  # real, staged
    pieces = [[t[a:b] for a, b in split_text(t)] or [t] for t in (texts[(r["source"], r["id"])] for r in rows)]
    flat = Encoder().encode([p for group in pieces for p in group])
    bounds = np.cumsum([0] + [len(group) for group in pieces])
    predicted = []
    for i in range(len(rows)):
        logits = flat[bounds[i] : bounds[i + 1]] @ weights.T + bias
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        predicted.append(int((probabilities / probabilities.sum(axis=1, keepdims=True)).mean(axis=0).argmax()))
    truth = [STAGES.index(r["stage"]) for r in rows]
    present = sorted(set(truth))
    return {
        "rev": old,
        "messages": len(rows),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", labels=present)), 4),
        "stages": [STAGES[i] for i in present],
        "accuracy": round(float(np.mean(np.array(truth) == np.array(predicted))), 4),
    }


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
    parser.add_argument(
        "--old-rules", default="ff56b6e", help="the git revision whose signal rules and journey head are the baseline"
    )
    parser.add_argument(
        "--old-sentiment", default="dcc2e5d", help="the git revision whose sentiment layers are the baseline"
    )
    args = parser.parse_args()

    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    if "sentiment" in args.only:
        results["sentiment"] = sentiment_quality(args.data, args.old_sentiment)
    # One training run per fold (~22 min each): produced by bench/sentiment_airline_folds.py, read here.
    results["sentiment_airline_folds"] = json.loads(FOLDS.read_text(encoding="utf-8")) if FOLDS.exists() else {}
    if "journey" in args.only:
        results["journey"] = journey_quality(args.data, args.old_rules)
    if "signals" in args.only:
        results["signals"] = signal_quality(args.data, args.old_rules)
    if "themes" in args.only:
        results["themes"] = theme_quality(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_table(results)
    print(f"\nwritten: {args.out}")


def _phrasings() -> list[str]:
    return [
        line.strip()
        for line in ESCALATION_PHRASINGS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


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
            "before_macro_recall",
            "vader_macro_recall",
            "model_macro_f1",
            "model_float32_macro_f1",
            "before_macro_f1",
            "vader_macro_f1",
        )
    ):
        if key in sentiment:  # a section measured before a figure was added lacks it
            print(f"{'sentiment':10} {'TweetEval val ' + key:52} {sentiment[key]:>8}")  # type: ignore[index]
    for key in (
        "escalation_phrasings_negative_share",
        "escalation_phrasings_before_negative_share",
        "escalation_phrasings_vader_negative_share",
    ):
        if key in sentiment:
            print(f"{'sentiment':10} {key:52} {sentiment[key]:>8}")  # type: ignore[index]
    folds = results["sentiment_airline_folds"]
    for k, row in sorted(folds.get("folds", {}).items()):  # type: ignore[union-attr]
        label = f"airline held-out fold {k} macro-F1 (VADER {row['vader']['macro_f1']})"
        print(f"{'sentiment':10} {label:52} {row['model']['macro_f1']:>8}")
    for key in (
        ()
        if not journey
        else (
            "cv_macro_f1_real",
            "cv_macro_f1_real_stages_with_20_examples",
            "cv_accuracy_real",
            "cv_macro_f1_seed_and_bitext",
            "share_unknown_cv_real_staged",
        )
    ):
        print(f"{'journey':10} {key:52} {journey[key]:>8}")  # type: ignore[index]
    if "head_before" in journey:
        before = journey["head_before"]
        label = f"head at {before['rev']} on {before['messages']} labelled messages"
        print(f"{'journey':10} {label:52} {before['macro_f1']:>8}")
    signals = results.get("signals", {})
    if "cv" in signals:
        for name in ("rules_before", *signals["cv"]):  # type: ignore[union-attr]
            part = signals[name] if name == "rules_before" else signals["cv"][name]  # type: ignore[index]
            print(f"{'signals':10} {name + ' macro-F1 (5-fold CV)':52} {part['macro_f1']:>8}")
            for signal, m in part["per_signal"].items():
                label = f"  {name} {signal} ({m['labelled']} labelled)"
                print(f"{'signals':10} {label:52} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f}")
    themes = results.get("themes", {})
    for name in ("shipped", "share_half", "share_double", "bertopic_defaults"):
        if name in themes:
            m = themes[name]
            label = f"banking77 {name} ({m['themes']} themes, {m['unassigned_share']:.1%} unassigned)"
            print(f"{'themes':10} {label:52} NMI={m['nmi']} ARI={m['ari']}")


if __name__ == "__main__":
    main()

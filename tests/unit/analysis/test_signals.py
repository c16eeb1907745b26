"""Signal rules: each rule fires on its words with evidence, negations cancel, broken rules are refused."""

from __future__ import annotations

import pytest

from vocmine.analysis.signals.rules import SignalRules
from vocmine.errors import ConfigError
from vocmine.resources import model_dir
from vocmine.schema import Conversation, Turn


@pytest.fixture(scope="module")
def detector():
    return SignalRules.load()


def _flags(detector, *customer_texts, agent_text="I understand, let me check that for you."):
    turns = []
    for text in customer_texts:
        turns += [Turn(role="customer", text=text), Turn(role="agent", text=agent_text)]
    return {f.signal: f for f in detector.detect(Conversation(id="c", channel="chat", source="t", turns=turns))}


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("I am cancelling my contract and switching to another provider.", "churn_risk"),
        ("We're done with you, I'm porting my number this week.", "churn_risk"),
        ("I want to speak to a manager right now.", "escalation"),
        ("If this isn't fixed I'm going to the ombudsman.", "escalation"),
        ("This is the third time I have written about this.", "repeat_contact"),
        ("I already explained all of this yesterday.", "repeat_contact"),
        ("I was on hold for 45 minutes and then transferred twice.", "high_effort"),
        ("Nobody gets back to me, ever.", "high_effort"),
        ("Absolutely disgusted with how I was treated.", "extreme_negative"),
        ("Priya was brilliant, best service I've had.", "strong_praise"),
    ],
)
def test_each_signal_fires_with_evidence(detector, text, signal):
    flags = _flags(detector, text)
    assert signal in flags
    flag = flags[signal]
    evidence = flag.evidence[0]
    assert evidence.turn_index == 0 and text[evidence.start : evidence.end] == evidence.text
    assert evidence.context == text and flag.reason and flag.model_version.startswith("rules-")


def test_negation_cancels_and_agent_words_never_count(detector):
    assert "churn_risk" not in _flags(detector, "I'm not going to cancel my account, I just want it fixed.")
    flags = _flags(detector, "My bill is wrong.", agent_text="You can speak to a manager or cancel your contract.")
    assert flags == {}


def test_evidence_is_collected_across_turns(detector):
    flags = _flags(detector, "This is the second time I ask.", "I have already called twice about it.")
    assert [e.turn_index for e in flags["repeat_contact"].evidence] == [0, 2]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[signal]]\nname = "x"\nseverity = 9\ndescription = "d"\npatterns = ["a"]\n', "severity"),
        ('[[signal]]\nname = "x"\nseverity = 2\ndescription = "d"\npatterns = ["(unclosed"]\n', "patterns\\[0\\]"),
        ('[[signal]]\nname = "x"\nseverity = 2\ndescription = "d"\npatterns = "a"\n', "list of regular"),
        ('[[signal]]\nname = "x"\nseverity = 2\ndescription = "d"\nmodel = "no"\n', "true or false"),
        ('[[signal]]\nname = "x"\nseverity = 2\ndescription = "d"\npatterns = ["a"]\ncolour = 1\n', "unknown keys"),
        ("not = [toml", "cannot read"),
        ("", "no \\[\\[signal\\]\\]"),
    ],
)
def test_broken_rule_files_are_refused_with_the_reason(tmp_path, body, message):
    path = tmp_path / "rules.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        SignalRules.load(path)


def test_a_condition_before_the_threat_does_not_cancel_it(detector):
    # The negation guard once swallowed this: "not" ... "cancel" within 15 characters.
    assert "churn_risk" in _flags(detector, "If it is not fixed I will cancel my contract.")


def test_labelled_samples_use_the_rule_names(detector):
    import json

    names = {rule.name for rule in detector.rules}
    folder = model_dir("signals")
    for sample in ("labels.jsonl", "labelled_dev_sample.jsonl", "labelled_test_sample.jsonl"):
        rows = [json.loads(line) for line in (folder / sample).read_text(encoding="utf-8").splitlines()]
        assert rows and all(set(r["signals"]) <= names and r["source"] for r in rows)
        assert "text" not in rows[0]  # labels only: texts stay in ../shared/data

"""Signals from both halves: the learned heads detect with a calibrated probability and evidence,
the rules add flags, switch heads off and keep them off chosen segments."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.analysis.signals.detector import SignalDetector
from vocmine.analysis.signals.heads import SignalHead, SignalHeads
from vocmine.analysis.signals.rules import SignalRules
from vocmine.schema import Conversation, Segment, Turn

RULES = """
[[signal]]
name = "escalation"
severity = 5
description = "asks for a manager"
patterns = ['\\bmanager\\b']
{extra}

[[signal]]
name = "strong_praise"
severity = 1
description = "praise"
patterns = ['\\bsuperb\\b']
"""
THREAT = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)  # the direction the toy head reads as escalation
CALM = np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32)


def _detector(tmp_path, extra: str = "") -> SignalDetector:
    path = tmp_path / "rules.toml"
    path.write_text(RULES.replace("{extra}", extra), encoding="utf-8")
    heads = {
        "escalation": SignalHead("escalation", THREAT * 10, -5.0, (1.0, 0.0, 0.0), 0.5),
        "churn_risk": SignalHead("churn_risk", THREAT * 10, -5.0, (1.0, 0.0, 0.0), 0.5),  # not in the rules file
    }
    return SignalDetector(SignalRules.load(path), SignalHeads(heads, "toy-heads", encoder=None))


def _conversation(*customer: str) -> tuple[Conversation, list[Segment]]:
    turns, segments = [], []
    for text in customer:
        index = len(turns)
        turns += [Turn(role="customer", text=text), Turn(role="agent", text="Let me look into that.")]
        segments.append(
            Segment(id=f"s{index}", conversation_id="c", turn_index=index, start=0, end=len(text), text=text)
        )
    return Conversation(id="c", channel="chat", source="t", turns=turns), segments


def test_the_head_flags_with_probability_and_the_segment_as_evidence(tmp_path):
    conversation, segments = _conversation("My bill is wrong.", "Fine.", "I will be taking this further.")
    vectors = np.stack([CALM, CALM, THREAT])  # the threat is in the third customer turn: it still counts
    [flag] = _detector(tmp_path).detect(conversation, segments, vectors)
    assert flag.signal == "escalation" and flag.detected_by == ["model"] and flag.severity == 5
    assert flag.probability is not None and flag.probability > 0.99
    [evidence] = flag.evidence
    assert evidence.turn_index == 4 and evidence.text == "I will be taking this further."
    assert conversation.turns[4].text[evidence.start : evidence.end] == evidence.text


def test_nothing_is_flagged_below_the_threshold(tmp_path):
    conversation, segments = _conversation("My bill is wrong.")
    assert _detector(tmp_path).detect(conversation, segments, np.stack([CALM])) == []


def test_rule_and_head_together_show_both_kinds_of_evidence(tmp_path):
    conversation, segments = _conversation("Get me a manager.", "I will be taking this further.")
    [flag] = _detector(tmp_path).detect(conversation, segments, np.stack([CALM, THREAT]))
    assert flag.detected_by == ["rule", "model"]
    assert [e.text for e in flag.evidence] == ["manager", "I will be taking this further."]


def test_a_rule_still_flags_what_the_head_misses_and_the_heads_view_is_kept(tmp_path):
    conversation, segments = _conversation("This is superb.", "Get me a manager.")
    flags = {f.signal: f for f in _detector(tmp_path).detect(conversation, segments, np.stack([CALM, CALM]))}
    assert set(flags) == {"escalation", "strong_praise"}
    assert flags["escalation"].detected_by == ["rule"] and flags["escalation"].probability is not None
    assert flags["strong_praise"].probability is None  # no head for it here


def test_suppress_keeps_the_head_off_a_segment(tmp_path):
    detector = _detector(tmp_path, extra="suppress = ['taking this further']")
    conversation, segments = _conversation("I will be taking this further.")
    assert detector.detect(conversation, segments, np.stack([THREAT])) == []


def test_model_false_switches_the_head_off_but_not_the_patterns(tmp_path):
    detector = _detector(tmp_path, extra="model = false")
    conversation, segments = _conversation("I will be taking this further.", "Get me a manager.")
    [flag] = detector.detect(conversation, segments, np.stack([THREAT, CALM]))
    assert flag.detected_by == ["rule"] and [e.text for e in flag.evidence] == ["manager"]


def test_a_signal_the_rules_file_drops_is_never_raised_by_its_head(tmp_path):
    conversation, segments = _conversation("I will be taking this further.")
    assert {f.signal for f in _detector(tmp_path).detect(conversation, segments, np.stack([THREAT]))} == {"escalation"}


def test_without_vectors_or_when_told_only_the_rules_run(tmp_path):
    detector = _detector(tmp_path)
    conversation, segments = _conversation("I will be taking this further.")
    assert detector.detect(conversation) == []
    assert detector.detect(conversation, segments, np.stack([THREAT]), learned=False) == []


@pytest.fixture(scope="module")
def shipped():
    from vocmine.analysis.encoder import Encoder

    return SignalDetector.load(), Encoder()


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("If it is not fixed I will cancel my contract.", "churn_risk"),
        ("I want to speak to a manager NOW.", "escalation"),
        ("I will be contacting my lawyer.", "escalation"),
        ("Third time I've had to chase this, still nothing.", "repeat_contact"),
        ("On hold for two hours and then the line went dead.", "high_effort"),
        ("Absolutely the worst service I have ever had, disgusting.", "extreme_negative"),
        ("Priya was amazing, best support ever, thank you!", "strong_praise"),
    ],
)
def test_the_shipped_detector_catches_what_a_reviewer_expects(shipped, text, signal):
    from vocmine.analysis import segmenter

    detector, encoder = shipped
    conversation = Conversation(id="c", channel="chat", source="t", turns=[Turn(role="customer", text=text)])
    segments = segmenter.segment_conversation(conversation)
    flags = {f.signal: f for f in detector.detect(conversation, segments, encoder.encode([s.text for s in segments]))}
    assert signal in flags
    assert all(f.evidence for f in flags.values())


def test_a_contact_announced_for_the_future_is_not_a_repeat_contact(shipped):
    from vocmine.analysis import segmenter

    detector, encoder = shipped
    text = "I have been charged twice for my plan. I will be contacting my lawyer. Thanks."
    conversation = Conversation(id="c", channel="chat", source="t", turns=[Turn(role="customer", text=text)])
    segments = segmenter.segment_conversation(conversation)
    flags = {f.signal for f in detector.detect(conversation, segments, encoder.encode([s.text for s in segments]))}
    assert "escalation" in flags and "repeat_contact" not in flags  # the shipped rules' suppress pattern


def test_the_shipped_heads_stay_quiet_on_a_plain_question(shipped):
    from vocmine.analysis import segmenter

    detector, encoder = shipped
    text = "Hi, can you tell me when my new card will arrive? Thanks."
    conversation = Conversation(id="c", channel="chat", source="t", turns=[Turn(role="customer", text=text)])
    segments = segmenter.segment_conversation(conversation)
    assert detector.detect(conversation, segments, encoder.encode([s.text for s in segments])) == []

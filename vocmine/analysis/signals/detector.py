"""Operational signals from both halves: the learned heads detect, the editable rules explain and
override.

For each signal the rule file declares (its name, severity and description):

* a rule match raises the flag, with the matched words as evidence (a user's own rule always adds
  flags, whatever the heads say);
* the learned head raises it when its calibrated probability over the conversation's customer
  segments reaches the head's threshold, with the segment(s) that drove it as evidence – unless
  the rule file switches that signal's head off (``model = false``) or a ``suppress`` pattern
  keeps the head off a segment;
* a flag raised by both carries the rule's spans first, then the head's segments.

The head reads only conversations in a language it was trained for (English): elsewhere its
probability would be a number about nothing, so only the rules run there and the analysis records
why (``unsupported_language``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vocmine.analysis.signals.heads import DEFAULT_HEADS, SignalHeads
from vocmine.analysis.signals.rules import DEFAULT_RULES, SignalRules
from vocmine.schema import Conversation, Evidence, Flag, Segment


class SignalDetector:
    def __init__(self, rules: SignalRules, heads: SignalHeads | None) -> None:
        self.rules = rules
        self.heads = heads

    @classmethod
    def load(cls, rules: Path = DEFAULT_RULES, heads: Path | None = DEFAULT_HEADS) -> SignalDetector:
        return cls(SignalRules.load(rules), SignalHeads.load(heads) if heads is not None else None)

    @property
    def version(self) -> str:
        return self.rules.version if self.heads is None else f"{self.rules.version}+{self.heads.version}"

    @property
    def encoder(self) -> str | None:
        return self.heads.encoder if self.heads is not None else None

    def detect(
        self,
        conversation: Conversation,
        segments: Sequence[Segment] = (),
        vectors: np.ndarray | None = None,
        *,
        learned: bool = True,
    ) -> list[Flag]:
        """Flags for one conversation. ``segments`` are its customer segments and ``vectors`` their
        embeddings (rows in the same order); without them, or with ``learned=False``, only the
        rules run."""
        flags = {flag.signal: flag for flag in self.rules.detect(conversation)}
        if self.heads is None or not learned or vectors is None or not len(segments):
            return list(flags.values())
        declared = self.rules.by_name
        allowed = {
            name: np.array([not rule.suppresses(s.text) for s in segments])
            for name, rule in declared.items()
            if name in self.heads.heads
        }
        for score in self.heads.score(vectors, allowed):
            rule = declared.get(score.signal)
            if rule is None or not rule.model:
                continue  # the user's rule file dropped this signal or switched its head off
            ruled = flags.get(score.signal)
            if not score.flagged:
                if ruled is not None:  # the head's view is still worth showing beside the rule's
                    flags[score.signal] = ruled.model_copy(update={"probability": score.probability})
                continue
            evidence = [_segment_evidence(segments[i]) for i in score.segments]
            if ruled is None:
                flags[score.signal] = Flag(
                    signal=rule.name,
                    severity=rule.severity,
                    reason=rule.description,
                    evidence=evidence,
                    model_version=self.version,
                    probability=score.probability,
                    detected_by=["model"],
                )
            else:
                covered = {(e.turn_index, e.context) for e in ruled.evidence}
                extra = [e for e in evidence if (e.turn_index, e.context) not in covered]
                flags[score.signal] = ruled.model_copy(
                    update={
                        "evidence": ruled.evidence + extra,
                        "model_version": self.version,
                        "probability": score.probability,
                        "detected_by": ["rule", "model"],
                    }
                )
        order = {rule.name: i for i, rule in enumerate(self.rules.rules)}
        return sorted(flags.values(), key=lambda f: order.get(f.signal, len(order)))


def _segment_evidence(segment: Segment) -> Evidence:
    return Evidence(
        turn_index=segment.turn_index, start=segment.start, end=segment.end, text=segment.text, context=segment.text
    )

"""The editable half of the operational signals – churn risk, escalation, repeat contact, high
effort, extreme negative experience, strong praise – as rules (``signal_rules.toml``, format
described there). The learned half is ``heads``; ``detector`` combines them.

A rule's flag says why (the rule's description) and where (evidence spans in the customer's words,
each with the sentence around it). A rule file also declares every signal's name, severity and
description, and may switch a signal's learned head off (``model = false``) or keep it off chosen
segments (``suppress``). Rules are checked when loaded: an unknown key, a bad severity or a regular
expression that does not compile is a ConfigError naming the signal and the pattern.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from vocmine.analysis.segmenter import split_text
from vocmine.errors import ConfigError
from vocmine.resources import signal_rules
from vocmine.schema import Conversation, Evidence, Flag, stable_hash

DEFAULT_RULES = signal_rules()
_KEYS = {"name", "severity", "description", "patterns", "unless", "suppress", "model"}


@dataclass(frozen=True)
class SignalRule:
    name: str
    severity: int
    description: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    suppress: tuple[re.Pattern[str], ...] = ()  # segments matching one never raise the learned flag
    model: bool = True  # whether the learned head may raise this signal at all

    def suppresses(self, segment_text: str) -> bool:
        return any(p.search(segment_text) for p in self.suppress)


class SignalRules:
    def __init__(self, rules: list[SignalRule], version: str) -> None:
        self.rules = rules
        self.version = version
        self.by_name = {rule.name: rule for rule in rules}

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> SignalRules:
        try:
            raw = Path(path).read_bytes()
            document = tomllib.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read signal rules {path}: {exc}", hint="fix the file or its path") from exc
        rules = [_rule(entry, i, path) for i, entry in enumerate(document.get("signal", []))]
        if not rules:
            raise ConfigError(f"no [[signal]] rules in {path}", hint="see vocmine/analysis/signals/signal_rules.toml")
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ConfigError(f"signal names repeat in {path}: {names}", hint="give each [[signal]] its own name")
        # The version changes whenever the rules do, so flags can be traced to the rules that made them.
        return cls(rules, version=f"rules-{stable_hash(raw.decode('utf-8'), length=10)}")

    def detect(self, conversation: Conversation) -> list[Flag]:
        evidence: dict[str, list[Evidence]] = {}
        for index, turn in enumerate(conversation.turns):
            if turn.role != "customer" or not turn.text:
                continue
            for seg_start, seg_end in split_text(turn.text):
                sentence = turn.text[seg_start:seg_end]
                for rule in self.rules:
                    if any(u.search(sentence) for u in rule.unless):
                        continue
                    for pattern in rule.patterns:
                        match = pattern.search(sentence)
                        if match:
                            evidence.setdefault(rule.name, []).append(
                                Evidence(
                                    turn_index=index,
                                    start=seg_start + match.start(),
                                    end=seg_start + match.end(),
                                    text=match.group(0),
                                    context=sentence,
                                )
                            )
                            break
        return [
            Flag(
                signal=rule.name,
                severity=rule.severity,
                reason=rule.description,
                evidence=evidence[rule.name],
                model_version=self.version,
            )
            for rule in self.rules
            if rule.name in evidence
        ]


def _rule(entry: object, index: int, path: Path) -> SignalRule:
    where = f"signal #{index + 1} in {path}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a table", hint="write each rule as a [[signal]] block")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(f"{where} has unknown keys {sorted(unknown)}", hint=f"allowed: {sorted(_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"{where}: 'name' must be a lower_case identifier", hint='e.g. name = "churn_risk"')
    severity = entry.get("severity")
    if not isinstance(severity, int) or not 1 <= severity <= 5:
        raise ConfigError(f"signal {name!r}: 'severity' must be an integer from 1 to 5", hint="e.g. severity = 3")
    description = entry.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ConfigError(f"signal {name!r} needs a 'description'", hint="it becomes the flag's reason")
    model = entry.get("model", True)
    if not isinstance(model, bool):
        raise ConfigError(f"signal {name!r}: 'model' must be true or false", hint="e.g. model = false")
    return SignalRule(
        name,
        severity,
        description.strip(),
        _patterns(entry.get("patterns", []), name, "patterns", False),
        _patterns(entry.get("unless", []), name, "unless", False),
        _patterns(entry.get("suppress", []), name, "suppress", False),
        model,
    )


def _patterns(values: object, name: str, key: str, required: bool) -> tuple[re.Pattern[str], ...]:
    if not isinstance(values, list) or (required and not values) or not all(isinstance(v, str) for v in values):
        raise ConfigError(
            f"signal {name!r}: {key!r} must be a list of regular expressions",
            hint=f"e.g. {key} = ['\\\\bmanager\\\\b']",
        )
    compiled = []
    for i, value in enumerate(values):
        try:
            compiled.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(
                f"signal {name!r}: {key}[{i}] is not a valid regular expression: {exc}",
                hint="fix the pattern (Python re syntax)",
            ) from exc
    return tuple(compiled)

"""The search language users type, parsed once for every backend into a tree that each backend
renders in its own syntax (FTS5 for the embedded store, ``simple_query_string`` for
Elasticsearch), so both stores answer the same query the same way:

* words, all of which must match (stemmed: "refunds" finds "refunded");
* ``"exact phrases"``;
* ``OR`` between alternatives; ``AND`` (the default between terms, so it may be written or not);
* ``NOT term`` or ``-term`` to exclude, also before a group: ``-(late OR delayed)``;
* parentheses to group: ``refund (month OR week)``;
* ``prefix*``: every word that *begins* with what was typed (``activat*`` finds "activate",
  "activation"), matched on the words as written, not on their stems.

Precedence is the usual one: NOT binds tightest, then AND, then OR; ``a b OR c`` is ``(a b) OR c``.
``AND``, ``OR`` and ``NOT`` are operators only in capitals; in lower case they are words. Text that
cannot be read (an unclosed parenthesis, a group that only excludes) is a clear error naming what to
change, whichever store answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vocmine.errors import ConfigError

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?\()|(\))|([^\s()"]+)')
OR, AND, NOT = "OR", "AND", "NOT"


@dataclass(frozen=True)
class Term:
    """A word or phrase as its word tokens (punctuation dropped, so no token is an operator)."""

    words: tuple[str, ...]
    prefix: bool = False  # the last word is a prefix (word*); a phrase is never one


@dataclass(frozen=True)
class Not:
    part: Node


@dataclass(frozen=True)
class AllOf:
    """Every part must match (AND); at least one part is not a ``Not``."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part must match (OR)."""

    parts: tuple[Node, ...]


Node = Term | Not | AllOf | AnyOf


def parse_search(text: str) -> Node:
    """The user's search text as a tree; ConfigError when it cannot be read or has nothing to find."""
    tokens = _tokens(text)
    if not tokens:
        raise _nothing(text)
    parser = _Parser(tokens, text)
    node = parser.alternatives()
    if parser.position < len(tokens):  # only an unmatched ")" stops the top level early
        raise ConfigError(f"search text {text!r} closes a parenthesis it never opened", hint="remove the extra ')'")
    if node is None:
        raise _nothing(text)
    _check_positive(node, text)
    return node


def positive_terms(node: Node) -> list[Term]:
    """The terms a match may contain (every term not under a ``Not``), for highlighting."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return []
    return [term for part in node.parts for term in positive_terms(part)]


# ---------------------------------------------------------------- tokens and grammar

_Token = tuple[str, object]  # ("(" | ")" | "-(" | "op" | "term", payload)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for negated_phrase, phrase, opening, closing, word in _TOKEN.findall(text):
        if opening:
            tokens.append(("-(" if opening.startswith("-") else "(", None))
        elif closing:
            tokens.append((")", None))
        elif word in (OR, AND, NOT):
            tokens.append(("op", word))
        else:
            if word:
                negate, raw, prefix = word.startswith("-"), word.lstrip("-"), word.endswith("*")
            else:  # a "phrase" (a quote left open runs to the end of the text)
                negate, raw, prefix = bool(negated_phrase), phrase, False
            words = tuple(re.findall(r"\w+", raw))
            if not words:
                continue  # punctuation alone ("-", "*", "&") has nothing to search for
            if negate:
                tokens.append(("op", NOT))
            tokens.append(("term", Term(words, prefix=prefix)))
    return tokens


class _Parser:
    """Recursive descent: alternatives := group (OR group)*; group := unary+ (AND optional between);
    unary := (NOT | -)* atom; atom := term | ( alternatives )."""

    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.text = text

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def alternatives(self) -> Node | None:
        options = []
        while True:
            group = self.group()
            if group is not None:
                options.append(group)
            token = self.peek()
            if token == ("op", OR):
                self.position += 1
                continue
            break
        if not options:
            return None
        return options[0] if len(options) == 1 else AnyOf(tuple(options))

    def group(self) -> Node | None:
        parts: list[Node] = []
        while True:
            token = self.peek()
            if token is None or token[0] == ")" or token == ("op", OR):
                break
            if token == ("op", AND):
                self.position += 1
                continue
            unary = self.unary()
            if unary is not None:
                parts.append(unary)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> Node | None:
        negations = 0
        while self.peek() == ("op", NOT):
            self.position += 1
            negations += 1
        token = self.peek()
        if token is None or token[0] == ")" or token[0] == "op":
            return None  # a dangling NOT ("refund NOT") excludes nothing
        self.position += 1
        atom = token[1] if isinstance(token[1], Term) else self.parenthesised()
        if atom is None:
            return None  # "()" holds nothing
        if token[0] == "-(":
            negations += 1
        return Not(atom) if negations % 2 else atom

    def parenthesised(self) -> Node | None:
        inside = self.alternatives()
        closing = self.peek()
        if closing is None or closing[0] != ")":
            raise ConfigError(
                f"search text {self.text!r} opens a parenthesis it never closes", hint="add the missing ')'"
            )
        self.position += 1
        return inside


def _check_positive(node: Node, text: str) -> None:
    """Every group must say what to find, not only what to leave out ("-refund", "a OR -b"), and
    what a group leaves out must itself be readable (-(late OR -delayed) is not)."""
    if isinstance(node, Not):
        raise ConfigError(
            f"search text {text!r} only excludes: it says what to leave out but not what to find",
            hint="add a word to search for, e.g. 'refund -late'",
        )
    if isinstance(node, AnyOf):
        for part in node.parts:
            _check_positive(part, text)
    elif isinstance(node, AllOf):
        wanted = [part for part in node.parts if not isinstance(part, Not)]
        for part in wanted or node.parts[:1]:  # none wanted: the first part raises
            _check_positive(part, text)
        for part in node.parts:
            if isinstance(part, Not) and not isinstance(part.part, Term):
                _check_positive(part.part, text)


def _nothing(text: str) -> ConfigError:
    return ConfigError(
        f"search text {text!r} has no words to search for",
        hint="give at least one word that is not excluded with - or NOT",
    )

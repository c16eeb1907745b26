"""The search language users type, parsed once for every backend: words (all must match),
"quoted phrases", OR between terms, a leading - to exclude a term, and a trailing * for prefix
matching. Each backend renders the parsed query in its own syntax (FTS5 for the embedded store,
``simple_query_string`` for Elasticsearch); text with nothing to search for is the same clear
error whichever store answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vocmine.errors import ConfigError

_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
OR = "OR"


@dataclass(frozen=True)
class Term:
    """A word or phrase as its word tokens (punctuation dropped, so no token is an operator)."""

    words: tuple[str, ...]
    prefix: bool = False  # the last word is a prefix (word*), never for a phrase


@dataclass(frozen=True)
class ParsedSearch:
    """``terms`` in the order typed, with ``OR`` between those that are alternatives (never first,
    last or doubled); ``excluded`` are the -terms, which no match may contain."""

    terms: tuple[Term | str, ...]
    excluded: tuple[Term, ...]


def parse_search(text: str) -> ParsedSearch:
    """The user's search text parsed; ConfigError when no term is left to search for."""
    parts: list[Term | str] = []
    excluded: list[Term] = []
    for neg_phrase_sign, phrase, word in _QUERY_TOKEN.findall(text):
        if word == OR:
            if parts and parts[-1] != OR:
                parts.append(OR)
            continue
        negate = bool(neg_phrase_sign) or word.startswith("-")
        raw = phrase if phrase else word.lstrip("-")
        words = tuple(re.findall(r"\w+", raw))
        if not words:
            continue
        term = Term(words, prefix=raw.endswith("*") and not phrase)
        (excluded if negate else parts).append(term)
    while parts and parts[-1] == OR:
        parts.pop()
    if parts and parts[0] == OR:
        parts.pop(0)
    if not parts:
        raise ConfigError(
            f"search text {text!r} has no words to search for",
            hint="give at least one word that is not excluded with -",
        )
    return ParsedSearch(tuple(parts), tuple(excluded))

"""Filler that a rule recognises for certain: what is left of a segment once mentions, links,
hashtags, redaction marks and punctuation are removed is empty, or is made only of the words of
thanks, greetings, acknowledgements, sign-offs and chasers below ("Thanks!", "Ok, noted.",
"Hi team", "Any update?", "Regards, Anna").

The rule only ever says "filler"; everything else goes to the learned head (``filter.py``), which
also catches the longer, freer filler a word list cannot ("This is the third time I've been told
that"). Precision and recall of both are measured in ``bench/content_filter.py``.
"""

from __future__ import annotations

import re

_NOISE = re.compile(
    r"@\w+|https?://\S+|www\.\S+|#\w+|\[[A-Z_]+\]|\bX{2,}\b|\{\$[\d.,]+\}",  # mentions, links, tags, redactions
)
_WORD = re.compile(r"[a-z']+")
# Words that carry no topic of their own, by the guide's kinds of filler: a segment of only these is filler.
_FILLER_GROUPS = (
    "hi hello hey hiya dear team all there good morning afternoon evening day night folks guys sir madam",  # greetings
    "thanks thank thx ty cheers much so very many lot lots a you your yours u for the help helping appreciate "
    "appreciated it great awesome perfect brilliant lovely nice cool amazing fantastic excellent wonderful super "
    "kind again really just truly",  # thanks and praise without an object
    "ok okay k kk sure yes yeah yep yup no nope nah fine noted understood got will do done alright right agreed "
    "sounds that this i we me my our is was be am are that's it's i'll i'm we'll sorted fixed resolved working "
    "works now not set",  # acknowledgements
    "regards best warm wishes sincerely take care bye goodbye later talk soon see have",  # sign-offs
    "any update updates news still waiting wait please respond reply answer asap dm dms sent messaged check pm "
    "inbox followed follow back",  # chasers
    "lol haha hahaha omg wow ugh hmm oh ah yay smh wtf",  # reactions
)
FILLER_WORDS = frozenset(word for group in _FILLER_GROUPS for word in group.split())


def topic_words(text: str) -> list[str]:
    """The words of ``text`` once mentions, links, hashtags and redaction marks are removed."""
    return _WORD.findall(_NOISE.sub(" ", text).lower())


# A sign-off with the writer's name after it: "Regards, Anna", "Many thanks, J. Smith".
_SIGN_OFF = re.compile(
    r"(?i:(?:(?:kind|best|warm|many)\s+)?(?:regards|wishes|sincerely|cheers|thanks|thank you|best))[\s,.!-]*"
    r"(?:[A-Z][\w.'-]*\s*){0,3}"  # the name: capitalised words only
)


def is_rule_filler(text: str) -> bool:
    """True when the segment has no word at all beyond the filler vocabulary, or is a sign-off."""
    if _SIGN_OFF.fullmatch(_NOISE.sub(" ", text).strip()) and text.strip()[:1].isalpha():
        return True
    return all(word.strip("'") in FILLER_WORDS for word in topic_words(text))

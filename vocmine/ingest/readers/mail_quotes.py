"""Separate what the sender wrote in this e-mail from what it quotes and from its signature.

Replies carry the whole thread below (or between) the new text; counting it again would make every
old complaint count once per reply. We cut at the first reply header – "On … wrote:" (also French,
German, Spanish, Dutch forms), Outlook's "-----Original Message-----" and its "From:/Sent:" header
block, a separator line followed by "From:" – drop ``>``-quoted lines (keeping inline answers between
them), and cut the signature: the RFC 3676 "-- " delimiter, "Sent from my …" lines, or a closing
valediction followed only by a few short lines (name, title, phone).

This is our own code rather than a library: the available reply parsers are unmaintained or
english-only, and this step decides what counts as the customer's voice, so we keep it testable here.
"""

from __future__ import annotations

import re

_REPLY_HEADER = re.compile(
    r"^\s*(?:"
    r"On\s.{1,200}?\swrote:"
    r"|Le\s.{1,200}?\sa\s[ée]crit\s?:"
    r"|Am\s.{1,200}?\sschrieb\s.{0,100}?:"
    r"|El\s.{1,200}?\sescribi[óo]:"
    r"|Op\s.{1,200}?\sschreef\s.{0,100}?:"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Urspr[üu]ngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|De|Von|Van)\s*:\*?\s.+$", re.IGNORECASE | re.MULTILINE)
_OUTLOOK_FOLLOWERS = re.compile(
    r"^\s*\*?(?:Sent|Date|Envoy[ée]|Gesendet|To|Subject|Objet|Betreff|Cc)\s*:", re.IGNORECASE
)
_SEPARATOR_LINE = re.compile(r"^\s*_{10,}\s*$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:Sent from my \w+|Sent from (?:Mail|Outlook|Yahoo Mail|Gmail)\b|Get Outlook for \w+|Envoy[ée] de mon \w+)",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^\s*(?:(?:best|kind|warm|many)?\s*regards|best(?: wishes)?|thanks?(?: you)?(?: so much)?(?: again)?"
    r"|many thanks|cheers|sincerely(?: yours)?|yours(?: sincerely| truly| faithfully)?|cordialement"
    r"|mit freundlichen gr[üu][ßs]en|saludos)\s*[,!.]?\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 6
_MAX_SIGNATURE_LINE_CHARS = 60


def strip_quotes_and_signature(body: str) -> str:
    """The text the sender wrote in this message, without quoted history or signature."""
    text = _cut_at_reply_header(body)
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    lines = _cut_signature(lines)
    return "\n".join(lines).strip()


def _cut_at_reply_header(body: str) -> str:
    cuts = []
    for pattern in (_REPLY_HEADER, _ORIGINAL_MESSAGE):
        match = pattern.search(body)
        if match:
            cuts.append(match.start())
    outlook = _outlook_block_start(body)
    if outlook is not None:
        cuts.append(outlook)
    return body[: min(cuts)] if cuts else body


def _outlook_block_start(body: str) -> int | None:
    """Start of an Outlook header block: "From:" followed within four lines by Sent/Date/To/Subject,
    or a long underscore separator immediately before it."""
    for match in _OUTLOOK_FROM.finditer(body):
        following = body[match.end() :].split("\n", 5)[1:5]  # the four lines after, not all of them split
        if sum(bool(_OUTLOOK_FOLLOWERS.match(line)) for line in following) >= 2:
            before = body[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            if _SEPARATOR_LINE.match(before):
                return match.start() - len(before) - 1
            return match.start()
    return None


def _cut_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if line == "-- " or line.rstrip() == "--" or _MOBILE_SIGNATURE.match(line):
            return lines[:i]
    # A valediction near the end, followed only by a few short lines, starts the signature.
    tail_start = max(0, len(lines) - _MAX_SIGNATURE_LINES - 1)
    for i in range(tail_start, len(lines)):
        if _VALEDICTION.match(lines[i]) and any(line.strip() for line in lines[:i]):
            rest = [line for line in lines[i + 1 :] if line.strip()]
            if len(rest) <= _MAX_SIGNATURE_LINES and all(len(line) <= _MAX_SIGNATURE_LINE_CHARS for line in rest):
                return lines[:i]
    return lines

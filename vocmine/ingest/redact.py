"""PII redaction, applied to every text field before anything is stored, logged or reported.

Each kind of identifier is replaced by a typed placeholder (``[EMAIL]``, ``[PHONE]`` ...), and the
counts by type go into the ingestion report. Candidates are found with patterns and then confirmed
by a checker wherever one exists, so that order numbers and dates are not redacted by accident:

* e-mail addresses – pattern;
* payment cards – 13–19 digits (spaces/dashes allowed) that pass the Luhn check (python-stdnum);
* IBANs – country code, check digits and BBAN that pass the ISO 13616 check (python-stdnum);
* national ids – US SSNs validated by python-stdnum (area/group/serial rules), UK National
  Insurance numbers by their published format;
* phone numbers – Google's libphonenumber (``phonenumbers``), accepted when the number is valid for
  its region and is either written like a phone number (``+``, brackets, separators) or announced
  by a word such as "call" or "phone" – a bare 10-digit run is too often an order number;
* street addresses – house number, street name and a street-type word (US/UK forms). No well-kept
  library detects addresses in free text offline, so this is our own conservative pattern;
* social handles – ``@name`` mentions that are not configured brand accounts.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vocmine.errors import ConfigError
from vocmine.settings import PII_TYPES

_EMAIL = re.compile(r"\b[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# A pattern that starts with a plain set of characters is searched in C, skipping to the next
# character of that set; one that starts with a lookaround or ``\b`` is tried at every position.
# So the patterns below check what comes before their first character only after matching it, by a
# lookbehind over that character: ``[A-Z](?<!\w[A-Z])`` is a capital with no word character before
# it, what ``\b[A-Z]`` says. Over mail bodies that made the IBAN, UK NI number and handle patterns
# 2.5-25x faster and the card pattern 1.5x; the SSN, phone and address patterns, also starting at
# digits (which are common), gained little and keep a ``(?=\d)`` first, which fails at once elsewhere.
# tests/unit/ingest/test_redact_patterns.py holds each rewritten pattern to the plain form it replaces.
_CARD = re.compile(r"\d(?<![\w-]\d)(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?=\d)\b\d{3}-\d{2}-\d{4}\b")
# Two letters but the prefixes never allocated (BG, GB, NK, KN, TN, NT, ZZ), six digits, a letter.
_NINO = re.compile(
    r"[A-CEGHJ-PR-TW-Z](?<!\w[A-CEGHJ-PR-TW-Z])[A-CEGHJ-NPR-TW-Z](?<!BG|GB|NK|KN|TN|NT|ZZ)"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_PHONE_HINT = re.compile(r"(?:phone|call|tel|mobile|cell|number|reach|text|whatsapp|fax)\W{0,3}(?:\w+\W+){0,3}$", re.I)
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
# A run of digits with the separators phone numbers are written with; at least 7 digits is checked after.
_PHONE_CANDIDATE = re.compile(
    # Not part of a longer number: no word character, currency or "+" just before, and no "3," or
    # "3." before or ",4" or ".4" after (thousands and decimals: "1,234,567", "12.5"). A comma or full
    # stop that ends the sentence ("Call (415) 555-0199, thanks") does not protect the number.
    r"(?=[\d+(])(?<![\w+£$€])(?<!\d[.,])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d(?:[\s.-]?\d){6,14}(?!\w|[.,]\d)"
)
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    "close|crescent|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|grove|gardens"
)
_ADDRESS = re.compile(
    rf"(?=\d)\b\d{{1,6}}[A-Za-z]?,?\s+(?:[A-Za-z0-9][\w'.-]*\s+){{1,4}}(?:{_STREET_TYPES})\b\.?"
    r"(?:,?\s+(?:apt|apartment|suite|unit|flat)\.?\s*#?\w+)?"
    # The town, state and postcode or ZIP that follow a street are part of the address: a postcode
    # narrows it to a few houses. Only taken when a postcode or ZIP ends it ("221B Baker Street,
    # London" keeps its town).
    r"(?:,?\s+(?:[A-Za-z][\w'.-]*,?\s+){0,3}(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|\d{5}(?:-\d{4})?)\b)?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"@(?<![\w@]@)(\w{1,30})")
_NON_DIGIT = re.compile(r"\D")
_PHONE_FORMATTING = re.compile(r"[+()\s.-]")
# The fewest digits (``\d``: the Unicode digits the patterns mean) a match of each kind holds: a card
# 13, a phone number 7, a UK NI number 6 (a US SSN 9), an IBAN's check digits 2, a house number 1.
# No placeholder holds a digit, so replacing never adds any: a text with fewer digits than a kind
# needs cannot hold that kind, before or after the kinds redacted ahead of it, and skips its pattern.
_DIGIT = re.compile(r"\d")
_MIN_DIGITS = {"email": 0, "iban": 2, "card": 13, "national_id": 6, "phone": 7, "address": 1, "handle": 0}

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "national_id": "[NATIONAL_ID]",
    "address": "[ADDRESS]",
    "handle": "@[USER]",
}


@dataclass
class Redactor:
    """Replaces PII in text with typed placeholders and counts what it replaced."""

    types: Iterable[str] = PII_TYPES
    phone_regions: Iterable[str] = ("US", "GB")
    keep_handles: Iterable[str] = ()
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.types = tuple(self.types)
        self.phone_regions = tuple(self.phone_regions)
        unknown = sorted(set(self.types) - set(PII_TYPES))
        if unknown:
            raise ConfigError(
                f"unknown PII type(s) {', '.join(unknown)}",
                hint=f"choose from {', '.join(PII_TYPES)}",
            )
        self._keep = {h.lower().lstrip("@") for h in self.keep_handles}
        # The enabled kinds in redaction order, each with the fewest digits it needs and its method.
        self._kinds: list[tuple[int, Callable[[str], str]]] = [
            (fewest, getattr(self, f"_redact_{kind}")) for kind, fewest in _MIN_DIGITS.items() if kind in self.types
        ]

    def keep(self, handles: Iterable[str]) -> None:
        self._keep.update(h.lower().lstrip("@") for h in handles)

    def redact(self, text: str | None) -> str | None:
        if not text:
            return text
        digits = len(_DIGIT.findall(text))
        if not digits and "@" not in text:
            return text  # nothing any pattern can match (e-mail addresses and handles need an "@")
        for fewest, redact_kind in self._kinds:
            if digits >= fewest:
                text = redact_kind(text)
        return text

    def _sub(
        self, kind: str, pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], bool] | None = None
    ) -> str:
        def replace(match: re.Match[str]) -> str:
            if accept is not None and not accept(match):
                return match.group(0)
            self.counts[kind] += 1
            return PLACEHOLDERS[kind]

        return pattern.sub(replace, text)

    def _redact_email(self, text: str) -> str:
        return self._sub("email", _EMAIL, text) if "@" in text else text

    def _redact_iban(self, text: str) -> str:
        from stdnum import iban

        return self._sub("iban", _IBAN, text, lambda m: iban.is_valid(m.group(0)))

    def _redact_card(self, text: str) -> str:
        from stdnum import luhn

        def is_card(match: re.Match[str]) -> bool:
            digits = _NON_DIGIT.sub("", match.group(0))
            return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn.is_valid(digits)

        return self._sub("card", _CARD, text, is_card)

    def _redact_national_id(self, text: str) -> str:
        from stdnum.us import ssn

        if "-" in text:  # an SSN is written 123-45-6789
            text = self._sub("national_id", _SSN, text, lambda m: ssn.is_valid(m.group(0)))
        return self._sub("national_id", _NINO, text)

    def _redact_phone(self, text: str) -> str:
        # Candidates come from a cheap pattern; libphonenumber then decides (running its own text
        # matcher over every message was the slowest step of ingestion).
        spans = [m.span() for m in _PHONE_CANDIDATE.finditer(text) if self._is_phone(m.group(0), text, m.start())]
        for start, end in reversed(spans):
            text = text[:start] + PLACEHOLDERS["phone"] + text[end:]
            self.counts["phone"] += 1
        return text

    def _is_phone(self, raw: str, text: str, start: int) -> bool:
        """Valid numbers that look or are announced like phone numbers; merely *possible* numbers
        (reserved ranges such as the UK's 07700 900xxx, new allocations) only when written in a
        dialling form: 9+ digits, starting with +, 0 or a bracket, with separators, not a date."""
        digits = sum(ch.isdigit() for ch in raw)
        if digits < 7 or digits > 15 or _DATE.fullmatch(raw.strip()):
            return False
        formatted = bool(_PHONE_FORMATTING.search(raw))
        announced = bool(_PHONE_HINT.search(text[max(0, start - 40) : start]))
        if not (formatted or announced):
            return False  # a bare digit run is an order or account number unless announced
        return _is_dialable(raw, tuple(self.phone_regions), formatted, announced, digits)

    def _redact_address(self, text: str) -> str:
        return self._sub("address", _ADDRESS, text)

    def _redact_handle(self, text: str) -> str:
        if "@" not in text:
            return text
        return self._sub("handle", _HANDLE, text, lambda m: m.group(1).lower() not in self._keep)


# libphonenumber's verdict is a pure function of these arguments and its slowest part (finding a
# number's region walks every region of its country code); the same numbers come back again and again
# (a company's lines in every agent signature), so each verdict is computed once per process.
@functools.lru_cache(maxsize=65536)
def _is_dialable(raw: str, regions: tuple[str, ...], formatted: bool, announced: bool, digits: int) -> bool:
    import phonenumbers

    possible = False
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True  # formatted or announced, as the caller checked
        possible = possible or phonenumbers.is_possible_number(number)
    dialling_form = raw[:1] in "+0(" and formatted
    return possible and digits >= 9 and (dialling_form or (announced and raw[:1] in "+0("))


def pseudonymise(value: str, *, salt: str = "vocmine") -> str:
    """A stable, non-reversible stand-in for an identifier such as an e-mail address."""
    from vocmine.schema import stable_hash

    return "cust-" + stable_hash(salt, value.strip().lower(), length=16)

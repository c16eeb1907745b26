"""PII redaction: each type replaced by its placeholder, look-alikes left alone."""

from __future__ import annotations

import pytest

from vocmine.errors import ConfigError
from vocmine.ingest.redact import Redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to john.doe+shop@example.co.uk today", "write to [EMAIL] today"),
        ("call (415) 555-2671 please", "call [PHONE] please"),
        ("my mobile 07700 900123", "my mobile [PHONE]"),
        ("or +44 20 7946 0958", "or [PHONE]"),
        ("card 4111 1111 1111 1111 was charged", "card [CARD] was charged"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please"),
        ("SSN 123-45-6789", "SSN [NATIONAL_ID]"),
        ("NI number AB 12 34 56 C", "NI number [NATIONAL_ID]"),
        ("send it to 221B Baker Street, London", "send it to [ADDRESS], London"),
        # A postcode or ZIP after the street belongs to the address.
        ("send it to 221B Baker Street, London NW1 6XE please", "send it to [ADDRESS] please"),
        ("ship to 742 Evergreen Terrace, Springfield, IL 62704.", "ship to [ADDRESS]."),
        ("at 10 Downing St SW1A 2AA", "at [ADDRESS]"),
        ("@john_smith says hi to @AcmeHelp", "@[USER] says hi to @AcmeHelp"),
        # A comma or full stop after a number ends the sentence; it used to protect the number.
        ("Call (415) 555-0199, thanks", "Call [PHONE], thanks"),
        ("ring +44 20 7946 0958, ok", "ring [PHONE], ok"),
        ("mobile 07911 123456, cheers", "mobile [PHONE], cheers"),
        ("415 555 2671, ok", "[PHONE], ok"),
        ("my number is 415 555 2671.", "my number is [PHONE]."),
    ],
)
def test_each_type_is_replaced(text, expected):
    assert Redactor(keep_handles=["AcmeHelp"]).redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 3348917502 is late",  # a bare 10-digit order number
        "on 2024-01-12 at 12:03:15",
        "I paid £119.66 for 3 items",
        "card ending 4111 1111 1111 1112",  # fails the Luhn check
        "ticket 12-345 and room 4.12",
        "version 5.2.1",
        "it cost 1,234,567 dollars",  # thousands separators: one amount, not a phone number
        "a total of 3,000,000.50 and 12.5",
    ],
)
def test_look_alikes_are_kept(text):
    assert Redactor().redact(text) == text


def test_counts_by_type_and_only_enabled_types():
    redactor = Redactor(types=["email"])
    assert redactor.redact("a@b.com and (415) 555-2671") == "[EMAIL] and (415) 555-2671"
    assert dict(redactor.counts) == {"email": 1}


def test_unknown_type_is_a_config_error():
    with pytest.raises(ConfigError, match="passport"):
        Redactor(types=["passport"])


def test_redaction_can_be_switched_off(ingest, settings, store, tmp_path):
    settings.redact_pii = False
    (tmp_path / "c.jsonl").write_text('{"id": "p", "turns": [{"role": "customer", "text": "mail a@b.com"}]}\n')
    report = ingest(tmp_path / "c.jsonl")
    assert report.pii_redacted == {}
    assert store.get_conversation("p").turns[0].text == "mail a@b.com"

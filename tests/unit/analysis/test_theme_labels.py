"""Theme labels read like an analyst's: a short key phrase the theme's segments contain, written as
customers wrote it, distinct across themes; keywords never empty or repeated."""

from __future__ import annotations

from vocmine.analysis.themes.labels import describe

ESIM = [
    "My eSIM won't activate on the new phone.",
    "eSIM activation has been pending for two days.",
    "The eSIM activation failed again this morning.",
    "Since the eSIM activation I have no signal at all.",
    "Is eSIM activation broken for everyone?",
]
REFUNDS = [
    "My refund has not arrived after three weeks.",
    "Still no refund for the returned parcel.",
    "Where is my refund? It was promised last week.",
    "The refund was approved but not paid.",
]
ROUTER = [
    "The router lights are flashing orange.",
    "My router keeps restarting every hour.",
    "Router lights went red after the storm, thanks.",
]


def test_labels_are_key_phrases_of_the_theme_in_the_customers_spelling() -> None:
    esim, refunds, router = describe([ESIM, REFUNDS, ROUTER])
    assert esim.label == "eSIM activation"
    assert refunds.label == "Refund"
    assert router.label == "Router lights"
    for words in (esim, refunds, router):
        assert words.keywords and all(k.strip() for k in words.keywords)
        assert len(set(words.keywords)) == len(words.keywords)
        assert all(len(set(k.split())) == len(k.split()) for k in words.keywords)  # no "worst worst"
    assert "thanks" not in router.keywords and "won't" not in esim.keywords


def test_themes_never_share_a_label() -> None:
    first = ["The bill shows a duplicate charge of £84.", "A duplicate charge I never agreed to.", "Duplicate charge!"]
    second = ["Duplicate charge on my card.", "There is a duplicate charge from the shop.", "duplicate charge, card"]
    labels = [d.label for d in describe([first, second])]
    assert len(set(labels)) == 2 and all(label.startswith("Duplicate charge") for label in labels)


def test_placeholders_mentions_and_numbers_are_not_words() -> None:
    (words,) = describe([["@NorthwindHelp my [CARD] was charged on the 15th", "[CARD] charged twice on the 15th"]])
    assert not any(k == "card" or "th" in k.split() or "northwindhelp" in k for k in words.keywords)


def test_a_label_names_a_subject_not_a_reaction() -> None:
    # Praise of agents: "Brilliant" is the commonest word, but a label made of it says nothing.
    praise = [
        "Brilliant, Sam sorted my router in minutes.",
        "Brilliant service from Sam on the router.",
        "Brilliant, the router works again thanks to Sam.",
        "Sam fixed the router, brilliant.",
    ]
    (words,) = describe([praise])
    assert words.label.lower() != "brilliant"
    assert "router" in words.label.lower() or "sam" in words.label.lower()

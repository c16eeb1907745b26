"""The search language: parentheses, AND, OR, NOT/-, phrases and prefixes mean what they say.

The embedded store's answers are checked against a reference evaluation of the same query over the
same documents, written here in plain Python. The corpus uses words that the porter stemmer leaves
as they are (so the reference needs no stemmer), plus a family of words that stem together
("activate", "activation", "active", "act") for prefixes, which must match the words as written."""

from __future__ import annotations

import random
import re

import pytest

from vocmine.errors import ConfigError
from vocmine.store.elastic.queries import to_simple_query
from vocmine.store.query import SearchQuery
from vocmine.store.search_syntax import AllOf, AnyOf, Node, Not, Term, parse_search
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.factories import conversation

PLAIN = ["refund", "month", "week", "parcel", "late", "router", "bill", "app", "login", "courier"]
STEMMED_TOGETHER = ["activate", "activation", "activated", "active", "act"]


def _documents(count: int = 400, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    documents = {}
    for n in range(count):
        words = rng.sample(PLAIN, rng.randint(1, 4))
        if rng.random() < 0.3:
            words.append(rng.choice(STEMMED_TOGETHER))
        rng.shuffle(words)
        documents[f"d{n}"] = " ".join(words)
    return documents


def _reference(node: Node, words: list[str]) -> bool:
    """Does a document of these words (in order) match the parsed query?"""
    if isinstance(node, Term):
        if node.prefix:
            return any(w.startswith(node.words[0]) for w in words)
        size = len(node.words)
        return any(tuple(words[i : i + size]) == node.words for i in range(len(words) - size + 1))
    if isinstance(node, Not):
        return not _reference(node.part, words)
    if isinstance(node, AllOf):
        return all(_reference(part, words) for part in node.parts)
    return any(_reference(part, words) for part in node.parts)


QUERIES = [
    "refund",
    "refund month",
    "refund AND month",
    "refund OR month",
    "refund (month OR week)",
    "(refund OR bill) (month OR week) -late",
    "refund NOT late",
    "refund -(late OR courier)",
    "router OR app login",
    '"refund month" OR parcel',
    "activat*",
    "activat* refund",
    "act*",
    "activation",  # a whole word is stemmed: it finds the words that stem with it
    "NOT NOT refund",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = SQLiteStore(str(tmp_path_factory.mktemp("search") / "store.sqlite"))
    documents = _documents()
    store.upsert_conversations([conversation(cid, text) for cid, text in documents.items()])
    return store, documents


def _found(store: SQLiteStore, text: str) -> set[str]:
    found, cursor = set(), None
    while True:
        page = store.search(SearchQuery(text=text, limit=1000, cursor=cursor))
        found |= {hit.conversation.id for hit in page.hits}
        cursor = page.next_cursor
        if not cursor:
            return found


@pytest.mark.parametrize("text", [q for q in QUERIES if q != "activation"])
def test_the_store_finds_what_the_reference_evaluation_finds(store, text):
    store, documents = store
    expected = {cid for cid, body in documents.items() if _reference(parse_search(text), body.split())}
    assert expected, f"{text!r} matches nothing in the corpus: the check would be empty"
    assert _found(store, text) == expected


def test_a_prefix_matches_words_as_written_while_a_word_is_stemmed(store):
    store, documents = store
    with_prefix = _found(store, "activat*")
    assert with_prefix == {cid for cid, body in documents.items() if re.search(r"\bactivat", body)}
    assert not any(
        re.search(r"\bact(ive)?\b", documents[cid]) and "activat" not in documents[cid] for cid in with_prefix
    )
    stemmed = _found(store, "activation")
    assert stemmed == {cid for cid, body in documents.items() if re.search(r"\bactiv", body)}  # porter: activ


def test_prefix_matches_are_highlighted(store):
    store, _ = store
    hit = store.search(SearchQuery(text="activat*", limit=1)).hits[0]
    assert any(re.search(r"<mark>activat\w*</mark>", h) for h in hit.highlights), hit.highlights


def test_the_tree_follows_the_usual_precedence():
    assert parse_search("a b OR c") == AnyOf((AllOf((Term(("a",)), Term(("b",)))), Term(("c",))))
    assert parse_search("a (b OR c)") == AllOf((Term(("a",)), AnyOf((Term(("b",)), Term(("c",))))))
    assert parse_search("a AND b") == parse_search("a b")
    assert parse_search("a -(b OR c)") == AllOf((Term(("a",)), Not(AnyOf((Term(("b",)), Term(("c",)))))))
    assert parse_search("a NOT b") == parse_search("a -b")
    assert parse_search("and or not") == AllOf((Term(("and",)), Term(("or",)), Term(("not",))))  # lower case: words


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-refund", "only excludes"),
        ("refund OR -late", "only excludes"),
        ("(refund", "never closes"),
        ("refund)", "never opened"),
        ("AND OR", "no words"),
        ("-(late OR -delayed) refund", "only excludes"),
    ],
)
def test_unreadable_searches_say_what_to_change(text, says):
    with pytest.raises(ConfigError, match=says):
        parse_search(text)


def test_elasticsearch_gets_the_same_tree():
    assert to_simple_query("refund (month OR week) -late") == "(refund (month | week) -late)"
    assert to_simple_query('"charged twice" OR activat*') == '("charged twice" | activat*)'

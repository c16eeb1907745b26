"""Offline checks of the Elasticsearch request bodies vocmine sends, against Elasticsearch's own
request schema (../shared/elasticsearch): a malformed body fails here, in CI, before any cluster
sees it. The backend that sends them (store/elastic.py) and the live contract run are issue 5."""

from __future__ import annotations

import pytest

from tests.unit.es_openapi import SPEC, problems
from vocmine.store.elastic_schema import KINDS, alias, index_name, index_template, move_alias_actions

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"Elasticsearch's request schema is not at {SPEC}")


@pytest.mark.parametrize("kind", KINDS)
def test_index_templates_fit_the_request_schema(kind):
    body = index_template("vocmine", kind, dimensions=384, shards=2, replicas=0)
    assert problems("indices.put_index_template", body) == []
    assert body["index_patterns"] == [f"vocmine-{kind}-v*"]
    assert body["template"]["mappings"]["dynamic"] == "strict"


def test_segment_vectors_are_cosine_dense_vectors_and_texts_english():
    mappings = index_template("vocmine", "segments", dimensions=768)["template"]["mappings"]["properties"]
    assert mappings["vector"] == {"type": "dense_vector", "dims": 768, "index": True, "similarity": "cosine"}
    assert mappings["text"]["analyzer"] == "english"
    conversations = index_template("vocmine", "conversations")["template"]["mappings"]["properties"]
    assert conversations["subject"]["fields"]["raw"]["type"] == "keyword"
    # Every filter and breakdown field is a keyword or a number in both indices, so they aggregate.
    for field in ("channel", "brand", "agent_id", "team_id", "stage", "signals"):
        assert mappings[field]["type"] == conversations[field]["type"] == "keyword"


def test_alias_move_fits_and_is_atomic():
    body = move_alias_actions("vocmine", "segments", 1, 2)
    assert problems("POST /_aliases", body) == []
    assert [list(a) for a in body["actions"]] == [["remove"], ["add"]]
    assert body["actions"][1]["add"] == {
        "index": index_name("vocmine", "segments", 2),
        "alias": alias("vocmine", "segments"),
        "is_write_index": True,
    }


@pytest.mark.parametrize(
    ("field", "key", "broken"),
    [("vector", "type", "dense_vectorr"), ("vector", "similarity", "cosinus"), ("theme_id", "type", "kw")],
)
def test_a_malformed_mapping_is_caught(field, key, broken):
    body = index_template("vocmine", "segments")
    body["template"]["mappings"]["properties"][field][key] = broken
    assert any(field in problem for problem in problems("indices.put_index_template", body))


def test_a_malformed_alias_action_is_caught():
    body = move_alias_actions("vocmine", "segments", None, 1)
    body["actions"][0]["add"]["is_write_index"] = "yes"
    assert problems("POST /_aliases", body)

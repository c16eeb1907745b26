"""Elasticsearch index layout for vocmine: index templates with explicit mappings, versioned
indices behind aliases. The backend (``store/elastic.py``, issue 5) sends these bodies; the tests
check them offline against Elasticsearch's own request schema.

**Document model.** Two indices: ``<prefix>-conversations`` (one document per conversation: its
fields, the customer text for full-text search, the analysis results the filters need) and
``<prefix>-segments`` (one document per analysed segment, with its embedding as a ``dense_vector``
and the conversation fields that filters and aggregations need, copied in). Segments are their own
index rather than ``nested`` documents because (a) kNN search and theme aggregations run per
segment, and a nested ``dense_vector`` would make every conversation update re-index all its
vectors, (b) a theme re-fit rewrites millions of segment documents without touching
conversations, and (c) ``nested`` aggregations are slower and capped (``index.mapping.nested_objects.limit``).
The cost is copying a few conversation fields into each segment, which a conversation's
re-analysis rewrites anyway.

A third index, ``<prefix>-state``, holds the small records that are not conversations (theme
catalog, API keys, review state and audit, alert rules, upload jobs); review state is also copied onto the
conversation so the review queue is one search.

**Versioning.** Indices are ``<prefix>-<kind>-v<N>``; readers and writers use the alias
``<prefix>-<kind>``. A mapping change bumps ``MAPPING_VERSION``: ``vocmine es migrate`` creates the
``v<N+1>`` index from the new template, re-indexes into it and moves the alias in one request, so
searches never see a missing index.
"""

from __future__ import annotations

import copy
from typing import Any

MAPPING_VERSION = 2  # 2: the ``words`` sub-fields that prefixes are matched on
KINDS = ("conversations", "segments", "state")

_KEYWORD = {"type": "keyword"}
# English-analysed text with a keyword sub-field for exact filters, sorting and terms aggregations.
_TEXT = {"type": "text", "analyzer": "english", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}}
# What customers wrote, searchable two ways: stemmed (english), and as written (``words``, the standard
# analyzer), where a prefix such as "activat*" finds "activate" – the stemmed field holds "activ".
_WORDS = {"words": {"type": "text", "analyzer": "standard"}}
_SEARCHED_TEXT = {"type": "text", "analyzer": "english", "fields": _WORDS}
_SUBJECT = {
    "type": "text",
    "analyzer": "english",
    "fields": {"raw": {"type": "keyword", "ignore_above": 512}, **_WORDS},
}
_DATE = {"type": "date"}
_FLOAT = {"type": "float"}
_INT = {"type": "integer"}

# Conversation fields copied into both indices: what filters, breakdowns and buckets use.
_CONVERSATION_FIELDS: dict[str, dict[str, Any]] = {
    "conversation_id": _KEYWORD,
    "channel": _KEYWORD,
    "source": _KEYWORD,
    "language": _KEYWORD,
    "brand": _KEYWORD,
    "product": _KEYWORD,
    "agent_id": _KEYWORD,
    "team_id": _KEYWORD,
    "customer_id": _KEYWORD,
    "account_id": _KEYWORD,
    "started_at": _DATE,
    "sentiment_label": _KEYWORD,  # conversation level
    "stage": _KEYWORD,
    "trajectory": _KEYWORD,
    "max_severity": {"type": "byte"},
    "signals": _KEYWORD,
    "nps": {"type": "byte"},
    "csat": _FLOAT,
}


def alias(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def index_name(prefix: str, kind: str, version: int = MAPPING_VERSION) -> str:
    return f"{prefix}-{kind}-v{version}"


def conversation_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",  # an unknown field is an error, not a silent new mapping
        "properties": {
            **_CONVERSATION_FIELDS,
            "subject": _SUBJECT,
            "customer_text": _SEARCHED_TEXT,
            "content_hash": _KEYWORD,
            "sentiment_score": _FLOAT,
            "most_negative": _FLOAT,
            "stage_confidence": _FLOAT,
            "analysed_at": _DATE,
            "versions_key": _KEYWORD,
            "themes": _KEYWORD,  # the themes of its segments, for the theme filter
            "segment_ids": {"type": "keyword", "index": False},  # so a re-analysis deletes the old ones
            "analysis_content_hash": _KEYWORD,
            "analysis_stale": {"type": "boolean"},  # analysed, but the conversation changed since
            "turn_keys": _KEYWORD,
            "turn_count": _INT,
            "customer_turn_count": _INT,
            "has_survey": {"type": "boolean"},
            # Copied from the review document (state index) so the queue is one filtered, sorted search.
            "review_status": _KEYWORD,
            "review_assignee": _KEYWORD,
            # The records themselves, returned as they were stored, never searched.
            "doc": {"type": "object", "enabled": False},
            "analysis_doc": {"type": "object", "enabled": False},
        },
    }


def segment_mappings(dimensions: int) -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "properties": {
            **_CONVERSATION_FIELDS,
            "segment_id": _KEYWORD,
            "position": _INT,
            "turn_index": _INT,
            "start": _INT,
            "end": _INT,
            "text": _SEARCHED_TEXT,
            "segment_sentiment": _KEYWORD,
            "sentiment_score": _FLOAT,
            "segment_stage": _KEYWORD,
            "stage_confidence": _FLOAT,
            "theme_id": _KEYWORD,
            "vector": {"type": "dense_vector", "dims": dimensions, "index": True, "similarity": "cosine"},
        },
    }


def state_mappings() -> dict[str, Any]:
    """The small documents that are not conversations: theme catalog and audit, API keys, review
    state, notes and audit, alert rules and deliveries, upload jobs. ``kind`` tells them apart; the record
    itself is ``doc``; the keyword fields are what lookups filter and sort on."""
    return {
        "dynamic": "strict",
        "properties": {
            "kind": _KEYWORD,
            "key": _KEYWORD,
            "conversation_id": _KEYWORD,
            "theme_id": _KEYWORD,
            "rule_id": _KEYWORD,
            "merged_into": _KEYWORD,
            "status": _KEYWORD,
            "assignee": _KEYWORD,
            "at": _DATE,
            "seq": {"type": "long"},  # write order, for audit trails
            "doc": {"type": "object", "enabled": False},
        },
    }


def index_template(
    prefix: str, kind: str, *, dimensions: int = 384, shards: int = 1, replicas: int = 1
) -> dict[str, Any]:
    """Body of ``PUT _index_template/<prefix>-<kind>`` for the versioned indices of one kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}")
    # A deep copy: the field specs share dicts (_KEYWORD…), and a caller editing one body must not
    # change every later one.
    mappings = copy.deepcopy(
        {
            "conversations": conversation_mappings,
            "segments": lambda: segment_mappings(dimensions),
            "state": state_mappings,
        }[kind]()
    )
    return {
        "index_patterns": [f"{prefix}-{kind}-v*"],
        "priority": 200,
        "template": {
            "settings": {"number_of_shards": shards, "number_of_replicas": replicas},
            "mappings": mappings,
        },
        # Elasticsearch's schema types _meta values as objects.
        "_meta": {"vocmine": {"mapping_version": MAPPING_VERSION}},
    }


def move_alias_actions(prefix: str, kind: str, old_version: int | None, new_version: int) -> dict[str, Any]:
    """Body of ``POST _aliases`` that points the alias at the new index (and away from the old one)
    atomically, after a re-index."""
    actions: list[dict[str, Any]] = []
    if old_version is not None:
        actions.append({"remove": {"index": index_name(prefix, kind, old_version), "alias": alias(prefix, kind)}})
    actions.append(
        {"add": {"index": index_name(prefix, kind, new_version), "alias": alias(prefix, kind), "is_write_index": True}}
    )
    return {"actions": actions}

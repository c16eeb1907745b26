"""Request bodies for the Elasticsearch backend, built with the client's typed ``elasticsearch.dsl``
classes (which reject unknown query and aggregation names) and checked in the tests against
Elasticsearch's request schema. User text only ever reaches ``simple_query_string``, which never
fails on syntax and has no access to field or script syntax; it never reaches ``query_string``.

Field names are those of ``schema.py``; both indices carry the conversation fields, so the
same filter serves conversation search, segment kNN and segment aggregations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch.dsl import Q, Search
from elasticsearch.dsl.query import Query

from vocmine.store.query import CONVERSATION_FIELD_FILTERS, ConversationFilter, SearchQuery
from vocmine.store.search_syntax import AllOf, AnyOf, Node, Not, Term, parse_search

# Each text field stemmed and as written (``schema._WORDS``): a word matches either way, a prefix as written.
TEXT_FIELDS = ["customer_text", "customer_text.words", "subject^2", "subject.words^2"]
HIGHLIGHT = {"fragment_size": 150, "number_of_fragments": 2, "pre_tags": ["<mark>"], "post_tags": ["</mark>"]}
_TERMS = {
    **CONVERSATION_FIELD_FILTERS,
    # The analysis filters, on the fields elastic_docs.shared_fields copies into both indices.
    "sentiments": "sentiment_label",
    "stages": "stage",
    "trajectories": "trajectory",
    "signals": "signals",
}


def to_simple_query(text: str) -> str:
    """The user's search syntax (``vocmine.store.search_syntax``: words, "phrases", AND, OR, NOT or
    -exclusion, parentheses, prefix*) in ``simple_query_string`` terms, with the grouping written out
    in parentheses: OR is ``|``, AND the default operator, exclusion ``-``. Text the parser refuses is
    the same clear error as in the embedded store."""
    return _simple(parse_search(text))


def _simple(node: Node) -> str:
    if isinstance(node, Term):
        if len(node.words) > 1 and not node.prefix:
            return '"' + " ".join(node.words) + '"'
        return " ".join(node.words) + ("*" if node.prefix else "")
    if isinstance(node, AnyOf):
        return "(" + " | ".join(_simple(part) for part in node.parts) + ")"
    if isinstance(node, AllOf):
        parts = [("-" + _simple(part.part)) if isinstance(part, Not) else _simple(part) for part in node.parts]
        return "(" + " ".join(parts) + ")"
    raise ValueError("an excluded term without a term to exclude it from")  # parse_search refuses these


def filter_queries(f: ConversationFilter, *, segments: bool = False) -> list[Query]:
    """The filter as ``bool.filter`` clauses (no scoring, cacheable)."""
    clauses = [Q("terms", **{field: list(getattr(f, name))}) for name, field in _TERMS.items() if getattr(f, name)]
    if f.themes:
        clauses.append(Q("terms", **{"theme_id" if segments else "themes": list(f.themes)}))
    bounds = {}
    if f.since:
        bounds["gte"] = f.since.isoformat()
    if f.until:
        bounds["lt"] = f.until.isoformat()
    if bounds:
        clauses.append(Q("range", started_at=bounds))
    if f.min_severity is not None:
        clauses.append(Q("range", max_severity={"gte": f.min_severity}))
    return clauses


def search_body(
    query: SearchQuery, *, pit_id: str | None = None, search_after: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Full-text search (or browsing by filter, newest first) with highlights; paged with a point in
    time and ``search_after`` so deep pages stay consistent and cheap."""
    search = Search()
    if query.text and query.text.strip():
        search = search.query(
            Q(
                "simple_query_string",
                query=to_simple_query(query.text),
                fields=TEXT_FIELDS,
                default_operator="and",
                analyze_wildcard=True,  # "rembourse*" is stemmed like the indexed words it should match
                flags="AND|OR|NOT|PHRASE|PREFIX|PRECEDENCE|WHITESPACE",
            )
        )
        search = search.sort({"_score": {"order": "desc"}}, {"conversation_id": {"order": "asc"}})
    else:
        search = search.sort(
            {"started_at": {"order": "desc", "missing": "_last"}}, {"conversation_id": {"order": "desc"}}
        )
    for clause in filter_queries(query.filter):
        search = search.filter(clause)
    # Long forms throughout (``_source.includes``, ``order`` objects, highlight fields as a list):
    # they are what Elasticsearch's request schema describes, so the offline check covers them.
    search = search.extra(size=query.limit, track_total_hits=True, _source={"includes": ["doc"]})
    body = search.to_dict()
    if query.text and query.text.strip():
        body["highlight"] = {"fields": [{"customer_text": HIGHLIGHT}, {"subject": HIGHLIGHT}]}
    if pit_id:
        body["pit"] = {"id": pit_id, "keep_alive": "2m"}
    if search_after:
        body["search_after"] = list(search_after)
    return body


# Most segments a kNN search reads (Elasticsearch refuses a num_candidates above 10,000).
MAX_CANDIDATES = 10_000
SEGMENTS_PER_CONVERSATION = 4  # nearest segments read for each conversation asked for (at least ``candidates``)


def knn_body(vector: Sequence[float], f: ConversationFilter, k: int = 20, candidates: int = 200) -> dict[str, Any]:
    """Semantic search over segments: the k conversations with the nearest segment vectors that
    pass the filter, each once with its nearest segment (collapsed), best first. Elasticsearch
    collapses the kNN's ``k`` nearest *segments*, so a conversation with several near segments
    would take several of k places and fewer than k conversations would come back: the kNN reads
    all of its candidates (at least ``candidates``, ``SEGMENTS_PER_CONVERSATION`` per conversation
    asked for) and the page is cut to k after the collapse."""
    segments = min(MAX_CANDIDATES, max(candidates, SEGMENTS_PER_CONVERSATION * k, k))
    search = Search().knn(
        field="vector",
        k=segments,
        num_candidates=segments,
        query_vector=list(map(float, vector)),
        filter=Q("bool", filter=filter_queries(f, segments=True)),
    )
    body = search.extra(size=k, _source={"includes": ["conversation_id", "text"]}).to_dict()
    body["collapse"] = {"field": "conversation_id"}
    return body


def hybrid_body(
    text: str, vector: Sequence[float], f: ConversationFilter, k: int = 20, rank_constant: int = 60
) -> dict[str, Any]:
    """Full text and kNN over the segment index, fused by reciprocal rank (the ``rrf`` retriever)."""
    filters = [c.to_dict() for c in filter_queries(f, segments=True)]
    standard = Q(
        "bool",
        must=[
            Q(
                "simple_query_string",
                query=to_simple_query(text),
                fields=["text", "text.words"],
                default_operator="and",
                analyze_wildcard=True,
            )
        ],
        filter=filter_queries(f, segments=True),
    )
    return {
        "retriever": {
            "rrf": {
                "retrievers": [
                    {"standard": {"query": standard.to_dict()}},
                    {
                        "knn": {
                            "field": "vector",
                            "query_vector": list(map(float, vector)),
                            "k": k,
                            "num_candidates": max(200, k),
                            "filter": {"bool": {"filter": filters}},
                        }
                    },
                ],
                "rank_constant": rank_constant,
                "rank_window_size": max(100, k),
            }
        },
        "size": k,
        "_source": {"includes": ["conversation_id", "text"]},
    }

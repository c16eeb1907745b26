"""Analysis results in the Elasticsearch store, mixed into ``ElasticStore``: the conversation
document carries what its analysis says (the fields filters and aggregations need, plus the record
without its segments in ``analysis_doc``); each segment is a document of the segment index with its
embedding. Re-analysing a conversation rewrites its segments and deletes the ones it no longer has
(their ids are kept on the conversation, so no search is needed to find them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.errors import StoreError
from vocmine.schema import AnalysedSegment, Conversation, ConversationAnalysis
from vocmine.store.elastic.aggs import analysis_stats_body
from vocmine.store.elastic.docs import BulkAction, BulkItem, conversation_document, segment_documents
from vocmine.store.elastic.queries import filter_queries
from vocmine.store.protocol import Partition
from vocmine.store.query import AnalysisStats, ConversationFilter, versions_key

# How long a plan's point in time lives without a request (each page read renews it): the longest a
# part may wait in the cluster's queue behind the others. A part read after that fails, naming it.
PIT_KEEP_ALIVE = "1h"
_PARTITION_PAGE = 500

_SEGMENT_FIELDS = [
    "segment_id",
    "conversation_id",
    "position",
    "turn_index",
    "start",
    "end",
    "text",
    "segment_sentiment",
    "sentiment_score",
    "segment_stage",
    "stage_confidence",
    "theme_id",
]


if TYPE_CHECKING:
    from vocmine.store.elastic.host import ElasticHost as _Host
else:
    _Host = object


class ElasticAnalysisMixin(_Host):
    """Uses the request helpers of ``ElasticStore`` (``_mget``, ``_scan``, ``_write``, ``_search``,
    ``_count``, ``_conversation_query``, ``index``)."""

    # ------------------------------------------------------------ writes

    def write_analyses(self, analyses: Sequence[ConversationAnalysis], vectors: Sequence[Any]) -> None:
        if len(vectors) != len(analyses):
            raise StoreError(f"{len(analyses)} analyses but {len(vectors)} vector matrices")
        ids = [a.conversation_id for a in analyses]
        existing = self._mget("conversations", ids, excludes=["customer_text"])
        missing = sorted(set(ids) - set(existing))
        if missing:
            raise StoreError(
                f"cannot store analyses: {len(missing)} conversation(s) not in this store ({', '.join(missing[:5])})",
                hint="analyse only conversations that are in this store",
            )
        segment_items: list[BulkItem] = []
        conversation_items: list[BulkItem] = []
        for analysis, matrix in zip(analyses, vectors, strict=True):
            if matrix is not None and len(matrix) != len(analysis.segments):
                raise StoreError(
                    f"{analysis.conversation_id}: {len(analysis.segments)} segments but {len(matrix)} vectors"
                )
            old = existing[analysis.conversation_id]
            source = old["_source"]
            conversation = Conversation.model_validate(source["doc"])
            document = conversation_document(conversation, analysis, versions_key(analysis.model_versions))
            document["review_status"] = source.get("review_status") or "new"
            document["review_assignee"] = source.get("review_assignee")
            new_segments = segment_documents(conversation, analysis, matrix)
            new_ids = {s["segment_id"] for s in new_segments}
            segment_items += [
                (sid, BulkAction("delete")) for sid in source.get("segment_ids") or [] if sid not in new_ids
            ]
            segment_items += [(s["segment_id"], s) for s in new_segments]
            conversation_items.append(
                (analysis.conversation_id, BulkAction("index", document, old["_seq_no"], old["_primary_term"]))
            )
        # Segments first: if the conversation write then fails, the conversation still counts as
        # unanalysed and the next run rewrites both.
        self._write("segments", segment_items)
        self._write("conversations", conversation_items)

    # ------------------------------------------------------------ reads

    def get_analyses(self, conversation_ids: Iterable[str]) -> dict[str, ConversationAnalysis]:
        # By id throughout (the segment ids are on the conversation): real time, no refresh needed.
        ids = list(dict.fromkeys(conversation_ids))
        docs = self._mget("conversations", ids, includes=["analysis_doc", "segment_ids"])
        analysed = [cid for cid in ids if cid in docs and docs[cid]["_source"].get("analysis_doc")]
        wanted = [sid for cid in analysed for sid in docs[cid]["_source"].get("segment_ids") or []]
        segments = self._mget("segments", wanted, includes=_SEGMENT_FIELDS)
        found = {}
        for cid in analysed:
            record = dict(docs[cid]["_source"]["analysis_doc"])
            record["segments"] = [
                _segment(segments[sid]["_source"])
                for sid in docs[cid]["_source"].get("segment_ids") or []
                if sid in segments
            ]
            found[cid] = ConversationAnalysis.model_validate(record)
        return found

    def get_analysis(self, conversation_id: str) -> ConversationAnalysis | None:
        return self.get_analyses([conversation_id]).get(conversation_id)

    def _unanalysed_query(self, key: str, f: ConversationFilter | None) -> dict[str, Any]:
        needs_analysis = {
            "bool": {
                "should": [
                    {"bool": {"must_not": [{"exists": {"field": "versions_key"}}]}},
                    {"term": {"analysis_stale": {"value": True}}},
                    {"bool": {"must_not": [{"term": {"versions_key": {"value": key}}}]}},
                ],
                "minimum_should_match": 1,
            }
        }
        return self._conversation_query(f, needs_analysis)

    def iter_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        query = self._unanalysed_query(versions_key, filter)
        for hit in self._scan("conversations", query, source={"includes": ["doc"]}, order="conversation_id"):
            yield Conversation.model_validate(hit["_source"]["doc"])

    def count_unanalysed(self, versions_key: str, filter: ConversationFilter | None = None) -> int:
        return self._count("conversations", self._unanalysed_query(versions_key, filter))

    # ------------------------------------------------------------ partitions (scale-out analysis)
    #
    # Sliced point in time: the plan opens one point in time over the conversations and each part is
    # a slice of it (``slice: {id, max}``), read with ``iter_unanalysed``'s query. A slice's members
    # are only defined within one point in time (by default Elasticsearch slices on ``_shard_doc``,
    # which changes as segments merge), so every attempt at a part reads the plan's point in time,
    # and drops, by a real-time get, what an earlier attempt has analysed since the snapshot.

    def plan_partitions(
        self, versions_key: str, count: int, filter: ConversationFilter | None = None
    ) -> list[Partition]:
        # Refreshed first, so the count and the snapshot hold everything written before the plan.
        self._call(self.es.indices.refresh, index=self.index("conversations"))
        parts = min(max(count, 1), self.count_unanalysed(versions_key, filter))
        if parts == 0:
            return []
        opened = self._call(self.es.open_point_in_time, index=self.index("conversations"), keep_alive=PIT_KEEP_ALIVE)
        pit = str(getattr(opened, "body", opened)["id"])
        return [Partition(i, parts, (pit, i, parts)) for i in range(parts)]

    def iter_partition(
        self, partition: Partition, versions_key: str, filter: ConversationFilter | None = None
    ) -> Iterator[Conversation]:
        pit, slice_id, slices = partition.bounds
        if not isinstance(pit, str) or not isinstance(slice_id, int) or not isinstance(slices, int):
            raise StoreError(f"partition {partition.number}: {partition.bounds!r} is not a point-in-time slice")
        body: dict[str, Any] = {
            "query": self._unanalysed_query(versions_key, filter),
            "size": _PARTITION_PAGE,
            "sort": [{"conversation_id": {"order": "asc"}}, {"_shard_doc": {"order": "asc"}}],
            "pit": {"id": pit, "keep_alive": PIT_KEEP_ALIVE},
            "_source": {"includes": ["doc"]},
            "track_total_hits": False,
        }
        if slices > 1:  # Elasticsearch refuses a slice of one
            body["slice"] = {"id": slice_id, "max": slices}
        while True:
            response = self._call(self.es.search, body=body)
            hits = getattr(response, "body", response)["hits"]["hits"]
            if not hits:
                return
            if "search_after" not in body:
                self._check_same_index(partition, str(hits[0]["_index"]))
            still = self._still_unanalysed([h["_id"] for h in hits], versions_key)
            for hit in hits:
                if hit["_id"] in still:
                    yield Conversation.model_validate(hit["_source"]["doc"])
            body["search_after"] = hits[-1]["sort"]

    def _check_same_index(self, partition: Partition, planned_on: str) -> None:
        """A worker configured with another index prefix than the driver would find none of the
        partition's conversations (and skip them all): it must fail instead, saying why."""
        name = self.index("conversations")
        response = self._call(self.es.indices.get_alias, name=name)
        behind = set(getattr(response, "body", response))
        if planned_on not in behind:
            raise StoreError(
                f"partition {partition.number} was planned on index {planned_on}, but this store's "
                f"{name} is {', '.join(sorted(behind)) or 'no index'}",
                hint="give every worker the driver's VOCMINE_ES_* settings (VOCMINE_ES_PREFIX in particular)",
            )

    def _still_unanalysed(self, ids: list[str], key: str) -> set[str]:
        """Which of ``ids`` need analysis now (a get is real time, unlike the snapshot): the same test
        as ``_unanalysed_query``, on the fields it reads."""
        docs = self._mget("conversations", ids, includes=["versions_key", "analysis_stale"])
        return {
            cid
            for cid, doc in docs.items()
            if doc["_source"].get("versions_key") != key or doc["_source"].get("analysis_stale") is True
        }

    def release_partitions(self, partitions: Sequence[Partition]) -> None:
        from elasticsearch import NotFoundError

        for pit in {p.bounds[0] for p in partitions}:
            # Already gone (expired, or freed by the server) leaves nothing to close.
            with contextlib.suppress(NotFoundError):
                self.es.close_point_in_time(id=str(pit))

    def _segment_query(self, f: ConversationFilter | None) -> dict[str, Any]:
        clauses = [c.to_dict() for c in filter_queries(f or ConversationFilter(), segments=True)]
        return {"bool": {"filter": [*clauses, {"exists": {"field": "vector"}}]}}

    def _segment_batches(
        self, f: ConversationFilter | None, fields: list[str], batch_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        # Vectors are left out of _source responses by default since Elasticsearch 9.2: ask for them.
        source = {"includes": fields, "exclude_vectors": False}
        batch: list[dict[str, Any]] = []
        size = min(batch_size, 2000)
        for hit in self._scan("segments", self._segment_query(f), source=source, size=size, order="segment_id"):
            batch.append(hit["_source"])
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def iter_segment_vectors(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        for batch in self._segment_batches(filter, ["segment_id", "vector"], batch_size):
            yield [s["segment_id"] for s in batch], np.asarray([s["vector"] for s in batch], dtype=np.float32)

    def iter_segment_texts(
        self, filter: ConversationFilter | None = None, batch_size: int = 2048
    ) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
        for batch in self._segment_batches(filter, ["segment_id", "text", "vector"], batch_size):
            yield (
                [s["segment_id"] for s in batch],
                [s["text"] for s in batch],
                np.asarray([s["vector"] for s in batch], dtype=np.float32),
            )

    def get_segment_vectors(self, segment_ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        ids = list(segment_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            body = {
                "query": {"bool": {"filter": [{"terms": {"segment_id": chunk}}, {"exists": {"field": "vector"}}]}},
                "size": len(chunk),
                "_source": {"includes": ["segment_id", "vector"], "exclude_vectors": False},
            }
            for hit in self._search("segments", body)["hits"]["hits"]:
                found[hit["_source"]["segment_id"]] = np.asarray(hit["_source"]["vector"], dtype=np.float32)
        return found

    def analysis_stats(self, filter: ConversationFilter | None = None) -> AnalysisStats:
        f = filter or ConversationFilter()
        response = self._search("conversations", analysis_stats_body(f))
        aggs = response["aggregations"]["analysed"]
        segment_query = {"bool": {"filter": [c.to_dict() for c in filter_queries(f, segments=True)]}}
        segments = self._count("segments", segment_query)

        def counts(name: str) -> dict[str, int]:
            return {str(b["key"]): int(b["doc_count"]) for b in aggs[name]["buckets"]}

        versions: dict[str, set[str]] = {}
        for bucket in aggs["versions"]["buckets"]:
            for hit in bucket["example"]["hits"]["hits"]:
                models = hit["_source"].get("analysis_doc", {}).get("model_versions", {})
                for model, version in models.items():
                    versions.setdefault(model, set()).add(version)
        stale = int(aggs["stale"]["doc_count"])
        return AnalysisStats(
            conversations=response["hits"]["total"]["value"],
            analysed=int(aggs["doc_count"]) - stale,
            stale=stale,
            segments=segments,
            by_sentiment=counts("sentiment"),
            by_stage=counts("stage"),
            by_trajectory=counts("trajectory"),
            by_signal=counts("signal"),
            model_versions={model: sorted(found) for model, found in sorted(versions.items())},
        )


def _segment(s: dict[str, Any]) -> AnalysedSegment:
    return AnalysedSegment(
        id=s["segment_id"],
        conversation_id=s["conversation_id"],
        turn_index=s["turn_index"],
        start=s["start"],
        end=s["end"],
        text=s["text"],
        sentiment=s["segment_sentiment"],
        sentiment_score=s["sentiment_score"],
        stage=s["segment_stage"],
        stage_confidence=s["stage_confidence"],
        theme_id=s.get("theme_id"),
    )

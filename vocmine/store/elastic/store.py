"""The Elasticsearch store: the whole ``Store`` protocol over the official ``elasticsearch`` client.

Layout and document model: ``schema.py`` (a conversation index, a segment index and a
small state index, each a versioned index behind an alias). Request bodies: ``queries.py``
and ``aggs.py``; documents: ``docs.py``; bulk writes with retries and a report of
every failed item: ``bulk.py``. This module and its mixins (analysis, themes, state) turn
protocol calls into those requests and responses back into records.

Differences from the embedded store, by design:

- A batch is not atomic: Elasticsearch has no multi-document transactions. Writes are idempotent
  upserts by id, so a failed batch is safe to send again; every failed item raises ``StoreError``
  naming it (nothing is dropped silently).
- Writes are visible to searches after the next refresh (about a second), to gets at once. The
  ``refresh`` option (``VOCMINE_ES_REFRESH=wait_for``) makes every write wait for it, which the
  contract tests use. State documents (themes, keys, reviews, alert rules) always wait: they are
  few and read right after being written.
- Search cursors carry the ``search_after`` sort values, not a point in time: an API cursor must
  stay valid for as long as a user keeps a page open and across API workers, which a PIT (a
  server-side resource with a keep-alive) is not. Iterations over a whole index (exports, analysis,
  theme fits) use a point in time, so they see one consistent snapshot.
- Aggregations count conversations with ``cardinality``, exact up to 40,000 per bucket.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vocmine.errors import ConfigError, ConflictError, StoreError
from vocmine.schema import Conversation, SerializedConversation
from vocmine.store.cursor import decode_cursor, encode_cursor
from vocmine.store.elastic.aggs import facets_body, latest_start_body, stats_body
from vocmine.store.elastic.analysis import ElasticAnalysisMixin
from vocmine.store.elastic.bulk import BulkReport, BulkWriter
from vocmine.store.elastic.docs import BulkAction, BulkItem, conversation_document
from vocmine.store.elastic.queries import filter_queries, hybrid_body, knn_body, search_body
from vocmine.store.elastic.schema import KINDS, MAPPING_VERSION, alias, index_name, index_template, move_alias_actions
from vocmine.store.elastic.state import ElasticStateMixin
from vocmine.store.elastic.themes import ElasticThemesMixin
from vocmine.store.fusion import FUSION_DEPTH, FusedHit, fused_search
from vocmine.store.protocol import Merge
from vocmine.store.query import ConversationFilter, SearchHit, SearchPage, SearchQuery, StoreStats, UpsertOutcome

# Fields of a conversation document that its analysis and review own: a new version of the
# conversation keeps them (the analysis then counts as stale until re-run).
CONFLICT_ROUNDS = 5  # guarded writes of one batch before giving up under constant contention
KEPT_ON_REWRITE = (
    "sentiment_label",
    "stage",
    "trajectory",
    "max_severity",
    "signals",
    "sentiment_score",
    "most_negative",
    "stage_confidence",
    "analysed_at",
    "versions_key",
    "themes",
    "segment_ids",
    "analysis_content_hash",
    "analysis_doc",
    "review_status",
    "review_assignee",
)
_PAGE = 500


class ElasticOptions(BaseSettings):
    """Connection and index options, from VOCMINE_ES_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="VOCMINE_ES_", extra="ignore")

    prefix: str = Field(default="vocmine", pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    api_key: str | None = None  # else user:password in the URL
    ca_certs: str | None = None  # the cluster's CA certificate (http_ca.crt in the Docker setup)
    verify_certs: bool = True
    dimensions: int = Field(default=384, ge=1, le=4096)  # the encoder's (all-MiniLM-L6-v2: 384)
    shards: int = Field(default=1, ge=1)
    replicas: int = Field(default=1, ge=0)
    refresh: str = Field(default="false", pattern="^(false|true|wait_for)$")
    request_timeout: float = 30.0


class ElasticStore(ElasticAnalysisMixin, ElasticThemesMixin, ElasticStateMixin):
    def __init__(self, url: str, options: ElasticOptions | None = None, *, client: Any = None) -> None:
        self.url = url
        self.options = options or ElasticOptions()
        self.prefix = self.options.prefix
        self.refresh: bool | str = {"false": False, "true": True}.get(self.options.refresh, self.options.refresh)
        self.es = client if client is not None else _client(url, self.options)
        self.bulk = BulkWriter(self.es)
        self._ready = False
        self._rrf: bool | None = None  # whether the licence allows the rrf retriever; asked on first use

    # ------------------------------------------------------------ indices

    def index(self, kind: str) -> str:
        """The alias readers and writers use; creates the indices on first use."""
        if not self._ready:
            self.ensure_indices()
        return alias(self.prefix, kind)

    def ensure_indices(self) -> None:
        """Put the index templates and create ``<prefix>-<kind>-v<N>`` behind each alias if missing."""
        from elasticsearch import ApiError, ConnectionError

        try:
            for kind in KINDS:
                self.es.indices.put_index_template(name=alias(self.prefix, kind), body=self._template(kind))
                if not self.es.indices.exists_alias(name=alias(self.prefix, kind)):
                    self._create_index(kind)
        except ConnectionError as exc:
            raise StoreError(
                f"cannot reach Elasticsearch at {_redacted(self.url)}: {exc}",
                hint="check the URL, that the cluster is up, and VOCMINE_ES_CA_CERTS for a self-signed certificate",
            ) from exc
        except ApiError as exc:
            raise StoreError(
                f"Elasticsearch refused to set up the vocmine indices: {_reason(exc)}",
                hint="the user needs the manage_index_templates cluster privilege and create_index on "
                f"{self.prefix}-* (or set them up once with an admin user)",
            ) from exc
        self._ready = True

    def _create_index(self, kind: str) -> None:
        from elasticsearch import BadRequestError

        try:
            self.es.indices.create(
                index=index_name(self.prefix, kind),
                body={"aliases": {alias(self.prefix, kind): {"is_write_index": True}}},
            )
        except BadRequestError as exc:
            # Another worker starting at the same moment created it first: that is what we wanted.
            if "resource_already_exists_exception" not in str(_reason(exc)):
                raise

    def _template(self, kind: str) -> dict[str, Any]:
        return index_template(
            self.prefix,
            kind,
            dimensions=self.options.dimensions,
            shards=self.options.shards,
            replicas=self.options.replicas,
        )

    def migrate(self, log: Any = print) -> dict[str, str]:
        """Move every alias to an index of the current ``MAPPING_VERSION``: create it from the new
        template, re-index the old index into it, then move the alias in one atomic request."""
        moved: dict[str, str] = {}
        for kind in KINDS:
            name = alias(self.prefix, kind)
            self.es.indices.put_index_template(name=name, body=self._template(kind))
            current = list(self.es.indices.get_alias(name=name).body) if self.es.indices.exists_alias(name=name) else []
            target = index_name(self.prefix, kind)
            if current == [target]:
                moved[kind] = f"{target} (already current)"
                continue
            if not self.es.indices.exists(index=target):
                self.es.indices.create(index=target)
            old_version = None
            if current:
                source = current[0]
                log(f"re-indexing {source} into {target} …")
                # Synchronous, with a long timeout: a migration is an operator's one-off, run while
                # writers are stopped (writes to the old index after its snapshot would not be copied).
                self.es.options(request_timeout=6 * 3600).reindex(
                    body={"source": {"index": source}, "dest": {"index": target}}, refresh=True
                )
                old_version = int(source.rsplit("-v", 1)[1])
            self.es.indices.update_aliases(body=move_alias_actions(self.prefix, kind, old_version, MAPPING_VERSION))
            moved[kind] = f"{current[0] if current else '(none)'} → {target}"
        self._ready = True
        return moved

    def own_indices(self) -> list[str]:
        """The indices of this prefix, ``<prefix>-<kind>-v<N>`` exactly: a longer prefix that starts
        with this one (``vocmine-demo`` beside ``vocmine``) and anything else under ``<prefix>-*``
        is not ours and is left out."""
        own = re.compile(rf"^{re.escape(self.prefix)}-(?:{'|'.join(KINDS)})-v[0-9]+$")
        listed = _body(self._call(self.es.indices.get, index=f"{self.prefix}-*", allow_no_indices=True))
        return sorted(name for name in listed if own.match(name))

    def document_counts(self) -> dict[str, int]:
        """How many documents each of ``own_indices`` holds (empty where there are none)."""
        return {name: int(_body(self._call(self.es.count, index=name))["count"]) for name in self.own_indices()}

    def drop_indices(self) -> None:
        """Delete this prefix's indices (``own_indices``: nothing of another prefix) and index
        templates (the contract tests clean up with it, ``vocmine demo --replace`` starts afresh)."""
        from elasticsearch import NotFoundError

        # By name: wildcard deletes are refused by default (action.destructive_requires_name).
        for name in self.own_indices():
            self.es.indices.delete(index=name)
        for kind in KINDS:
            with contextlib.suppress(NotFoundError):
                self.es.indices.delete_index_template(name=alias(self.prefix, kind))
        self._ready = False

    def prepare_serving(self) -> None:
        """Nothing to prepare: the cluster aggregates."""

    def close(self) -> None:
        self.es.close()

    # ------------------------------------------------------------ request helpers

    def _search(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return _body(self._call(self.es.search, index=self.index(kind), body=body))

    def _call(self, method: Any, **kwargs: Any) -> Any:
        """One request; client errors become StoreError/ConfigError with what to change."""
        from elasticsearch import ApiError, ConnectionError

        try:
            return method(**kwargs)
        except ConnectionError as exc:
            raise StoreError(f"cannot reach Elasticsearch at {_redacted(self.url)}: {exc}") from exc
        except ApiError as exc:
            if exc.meta.status == 400:
                raise ConfigError(f"Elasticsearch refused the request: {_reason(exc)}") from exc
            if exc.meta.status == 409:
                raise ConflictError(f"a concurrent change won: {_reason(exc)}", hint="reload and try again") from exc
            raise StoreError(f"Elasticsearch answered {exc.meta.status}: {_reason(exc)}") from exc

    def _write(
        self,
        kind: str,
        items: Sequence[BulkItem],
        *,
        refresh: bool | str | None = None,
        missing_ok: bool = False,
        conflicts_ok: bool = False,
    ) -> BulkReport:
        """Bulk write that raises StoreError naming every item that failed after the retries;
        ``missing_ok``: an update of a document that does not exist (404) stays in the report instead;
        ``conflicts_ok``: so does a guarded write another writer came before (409)."""
        if not items:
            return BulkReport()
        report = self.bulk.write(self.index(kind), items, refresh=self.refresh if refresh is None else refresh)
        tolerated = {404} if missing_ok else set()
        tolerated |= {409} if conflicts_ok else set()
        errors = [f for f in report.failed if f.status not in tolerated]
        if errors:
            shown = "; ".join(f"{f.id}: {f.status} {f.error_type} {f.reason}" for f in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise StoreError(f"{len(errors)} of {len(items)} writes to {kind} failed: {shown}{more}")
        return report

    def _count(self, kind: str, query: dict[str, Any]) -> int:
        return int(_body(self._call(self.es.count, index=self.index(kind), body={"query": query}))["count"])

    def _mget(
        self, kind: str, ids: Sequence[str], *, includes: Sequence[str] = (), excludes: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """Documents by id (real time: sees writes not yet refreshed), with their sequence numbers."""
        found: dict[str, dict[str, Any]] = {}
        options: dict[str, Any] = {}
        if includes:
            options["source_includes"] = list(includes)
        if excludes:
            options["source_excludes"] = list(excludes)
        for start in range(0, len(ids), _PAGE):
            chunk = list(ids[start : start + _PAGE])
            response = _body(self._call(self.es.mget, index=self.index(kind), body={"ids": chunk}, **options))
            for doc in response.get("docs", []):
                if doc.get("found"):
                    found[doc["_id"]] = doc
        return found

    def _scan(
        self, kind: str, query: dict[str, Any], *, source: Any = True, size: int = _PAGE, order: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every hit of ``query``, through a point in time (one snapshot, however long it takes),
        ordered by the keyword field ``order`` (else index order). The index is refreshed first, so
        the snapshot holds everything written before the call (ingest, then analyse at once)."""
        self._call(self.es.indices.refresh, index=self.index(kind))
        pit = _body(self._call(self.es.open_point_in_time, index=self.index(kind), keep_alive="5m"))["id"]
        sort = ([{order: {"order": "asc"}}] if order else []) + [{"_shard_doc": {"order": "asc"}}]
        try:
            after: list[Any] | None = None
            while True:
                body: dict[str, Any] = {
                    "query": query,
                    "size": size,
                    "sort": sort,
                    "pit": {"id": pit, "keep_alive": "5m"},
                    "_source": source,
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                hits = _body(self._call(self.es.search, body=body))["hits"]["hits"]
                if not hits:
                    return
                yield from hits
                after = hits[-1]["sort"]
        finally:
            from elasticsearch import NotFoundError

            # Gone already (it expired, or the server freed it: seen on noida-db under concurrent
            # requests): closing it has nothing left to do, and the iteration had its pages.
            with contextlib.suppress(NotFoundError):
                self.es.close_point_in_time(id=pit)

    def _conversation_query(self, f: ConversationFilter | None, *extra: dict[str, Any]) -> dict[str, Any]:
        clauses = [c.to_dict() for c in filter_queries(f or ConversationFilter())] + list(extra)
        return {"bool": {"filter": clauses}}

    # ------------------------------------------------------------ conversations

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Nothing to put off: Elasticsearch builds what each bulk request needs as it indexes it."""
        yield

    def upsert_conversations(
        self, conversations: Sequence[Conversation], merge: Merge | None = None
    ) -> list[UpsertOutcome]:
        latest = {c.id: c for c in conversations}  # a batch naming an id twice keeps the last
        outcomes: dict[str, UpsertOutcome] = {}
        pending = list(latest)
        # Every write is guarded by the version read (``create`` or ``index`` with its sequence
        # number): when another writer came in between, those ids are read, merged and written again.
        for _ in range(CONFLICT_ROUNDS):
            conflicts = self._upsert_round(pending, latest, merge, outcomes)
            if not conflicts:
                break
            pending = conflicts
        else:
            raise StoreError(
                f"{len(pending)} conversations changed under other writers {CONFLICT_ROUNDS} times in a row, "
                f"e.g. {pending[0]}",
                hint="run the ingest again: what was stored is kept, and the rest is written then",
            )
        seen: set[str] = set()
        result = []
        for conversation in conversations:
            # Repeats of an id within the batch are unchanged after its first write, as in SQLite.
            result.append(UpsertOutcome.UNCHANGED if conversation.id in seen else outcomes[conversation.id])
            seen.add(conversation.id)
        return result

    def _upsert_round(
        self,
        ids: list[str],
        latest: dict[str, Conversation],
        merge: Merge | None,
        outcomes: dict[str, UpsertOutcome],
    ) -> list[str]:
        """One guarded write of ``ids``; sets their outcomes and returns the ids another writer
        changed first (409), to be read and written again."""
        existing = self._mget("conversations", ids, excludes=["customer_text"] if merge else ["doc", "customer_text"])
        items: list[BulkItem] = []
        for cid in ids:
            old = existing.get(cid)
            conversation = latest[cid]
            if merge is not None:
                merged = merge(Conversation.model_validate(old["_source"]["doc"]) if old else None, conversation)
                # The document here is built from the conversation whole (it holds more than its JSON).
                conversation = merged.conversation if isinstance(merged, SerializedConversation) else merged
            document = conversation_document(conversation, None)
            if old is None:
                items.append((cid, BulkAction("create", document)))
                outcomes[cid] = UpsertOutcome.NEW
                continue
            source = old["_source"]
            if source.get("content_hash") == document["content_hash"]:
                outcomes[cid] = UpsertOutcome.UNCHANGED
                continue
            for key in KEPT_ON_REWRITE:
                if key in source:
                    document[key] = source[key]
            if source.get("versions_key"):
                document["analysis_stale"] = source.get("analysis_content_hash") != document["content_hash"]
            items.append((cid, BulkAction("index", document, old["_seq_no"], old["_primary_term"])))
            outcomes[cid] = UpsertOutcome.UPDATED
        report = self._write("conversations", items, conflicts_ok=True)
        return [f.id for f in report.failed if f.status == 409]

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self.get_conversations([conversation_id]).get(conversation_id)

    def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, Conversation]:
        ids = list(dict.fromkeys(conversation_ids))
        docs = self._mget("conversations", ids, includes=["doc"])
        return {cid: Conversation.model_validate(docs[cid]["_source"]["doc"]) for cid in ids if cid in docs}

    def conversation_ids_for_turn_keys(self, keys: Sequence[str]) -> dict[str, str]:
        wanted = set(keys)
        found: dict[str, str] = {}
        for start in range(0, len(keys), _PAGE):
            chunk = list(keys[start : start + _PAGE])
            query = {"bool": {"filter": [{"terms": {"turn_keys": chunk}}]}}
            for hit in self._scan("conversations", query, source={"includes": ["turn_keys"]}):
                for key in hit["_source"].get("turn_keys") or []:
                    if key in wanted:
                        found[key] = hit["_id"]
        return found

    def iter_conversations(self, filter: ConversationFilter | None = None) -> Iterator[Conversation]:
        query = self._conversation_query(filter)
        for hit in self._scan("conversations", query, source={"includes": ["doc"]}, order="conversation_id"):
            yield Conversation.model_validate(hit["_source"]["doc"])

    def search(self, query: SearchQuery) -> SearchPage:
        text_search = bool(query.text and query.text.strip())
        after = decode_cursor(query.cursor, 2) if query.cursor else None
        body = search_body(query.model_copy(update={"limit": query.limit + 1}), search_after=after)
        response = self._search("conversations", body)
        hits = response["hits"]["hits"]
        page = [
            SearchHit(
                conversation=Conversation.model_validate(hit["_source"]["doc"]),
                score=hit.get("_score") if text_search else None,
                highlights=[
                    fragment
                    for field in ("customer_text", "subject")
                    for fragment in hit.get("highlight", {}).get(field, [])
                ],
            )
            for hit in hits[: query.limit]
        ]
        next_cursor = encode_cursor(hits[query.limit - 1]["sort"]) if len(hits) > query.limit else None
        return SearchPage(hits=page, total=response["hits"]["total"]["value"], next_cursor=next_cursor)

    def semantic_search(
        self, vector: Any, filter: ConversationFilter | None = None, limit: int = 20, offset: int = 0
    ) -> list[tuple[str, float, str]]:
        body = knn_body([float(x) for x in vector], filter or ConversationFilter(), k=offset + limit)
        hits = self._search("segments", body)["hits"]["hits"]
        # For cosine similarity Elasticsearch scores (1 + cosine) / 2; callers compare cosines.
        return [
            (hit["_source"]["conversation_id"], round(2 * float(hit["_score"]) - 1, 4), hit["_source"].get("text", ""))
            for hit in hits[offset : offset + limit]
        ]

    def hybrid_search(
        self, text: str, vector: Any, filter: ConversationFilter, depth: int = FUSION_DEPTH
    ) -> list[FusedHit]:
        """Fused on the server by the ``rrf`` retriever where the licence allows it, else here."""
        if not self._rrf_licensed():
            return fused_search(self, text, vector, filter, depth)
        body = hybrid_body(text, [float(x) for x in vector], filter, k=depth)
        fused: dict[str, FusedHit] = {}
        for hit in self._search("segments", body)["hits"]["hits"]:  # segments: the first is the best
            conversation_id = hit["_source"]["conversation_id"]
            if conversation_id not in fused:
                fused[conversation_id] = (conversation_id, round(float(hit["_score"]), 6), [hit["_source"]["text"]])
        return list(fused.values())

    def _rrf_licensed(self) -> bool:
        """Whether the cluster's licence allows the ``rrf`` retriever (Enterprise, or a trial): asked
        once. A cluster that does not answer GET /_license (an emulator, a proxy) is fused here."""
        from elasticsearch import ApiError, ConnectionError, TransportError

        if self._rrf is None:
            try:
                licence = _body(self.es.license.get()).get("license") or {}
                self._rrf = licence.get("status") == "active" and licence.get("type") in RRF_LICENCES
            except (ApiError, ConnectionError, TransportError, AttributeError, TypeError):
                self._rrf = False  # no licence to read: fusing here works on every server
        return self._rrf

    def facet_counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        clause = search_body(query.model_copy(update={"cursor": None})).get("query")
        aggregations = self._search("conversations", facets_body(clause))["aggregations"]
        return {
            name: {str(b["key"]): int(b["doc_count"]) for b in aggregations[name]["buckets"]}
            for name in ("channel", "sentiment", "stage", "signal")
        }

    def latest_start(self, filter: ConversationFilter | None = None) -> datetime | None:
        body = latest_start_body(filter or ConversationFilter())
        return _epoch_ms(self._search("conversations", body)["aggregations"]["latest"]["value"])

    def stats(self, filter: ConversationFilter | None = None) -> StoreStats:
        response = self._search("conversations", stats_body(filter or ConversationFilter()))
        aggs = response["aggregations"]

        def counts(name: str) -> dict[str, int]:
            return {str(b["key"]): int(b["doc_count"]) for b in aggs[name]["buckets"]}

        return StoreStats(
            conversations=response["hits"]["total"]["value"],
            turns=int(aggs["turns"]["value"] or 0),
            customer_turns=int(aggs["customer_turns"]["value"] or 0),
            with_survey=aggs["with_survey"]["doc_count"],
            first_started_at=_epoch_ms(aggs["first"]["value"]),
            last_started_at=_epoch_ms(aggs["last"]["value"]),
            by_channel=counts("channel"),
            by_source=counts("source"),
            by_language=counts("language"),
        )


# Licences under which Elasticsearch runs the rrf retriever (RRFRetrieverBuilder checks for Enterprise;
# a trial licence has every feature).
RRF_LICENCES = {"enterprise", "trial"}


def _client(url: str, options: ElasticOptions) -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(
        url,
        api_key=options.api_key,
        ca_certs=options.ca_certs,  # type: ignore[arg-type]
        verify_certs=options.verify_certs,
        request_timeout=options.request_timeout,
        retry_on_timeout=True,
        max_retries=3,
    )


def _body(response: Any) -> dict[str, Any]:
    return getattr(response, "body", response)


def _reason(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        root = (error.get("root_cause") or [error])[0]
        return f"{root.get('type', 'error')}: {root.get('reason', '')}"
    return str(exc)


def _redacted(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _epoch_ms(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value is not None else None

"""The small records of the Elasticsearch store, mixed into ``ElasticStore``: API keys, the review
queue (state, notes, label corrections, audit trail), alert rules and webhook deliveries, and the
theme catalog's documents (used by ``themes.py``). They live in the state index, one
document each, written with ``refresh=wait_for`` so the next read sees them.

Review changes use optimistic concurrency: the review document is read with its sequence number
and written back with ``if_seq_no`` / ``if_primary_term`` (or created with ``op_type=create``), so
two reviewers changing the same conversation at once cannot overwrite each other: the second gets
ConflictError and reloads. The review status and assignee are also copied onto the conversation
document, so the queue is one filtered, sorted search over conversations.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from vocmine.errors import ConflictError, NotFoundError
from vocmine.schema import AlertRule, ApiKey, LabelCorrection, ReviewNote, ReviewState, UploadJob, utcnow
from vocmine.store.cursor import decode_cursor, encode_cursor
from vocmine.store.elastic.aggs import ANALYSED
from vocmine.store.elastic.docs import BulkAction
from vocmine.store.query import ReviewPage, ReviewQuery
from vocmine.store.review_rules import review_changes

_REVIEW_FIELDS = [
    "max_severity",
    "started_at",
    "channel",
    "signals",
    "versions_key",
    "review_status",
    "review_assignee",
]


if TYPE_CHECKING:
    from vocmine.store.elastic.host import ElasticHost as _Host
else:
    _Host = object


class ElasticStateMixin(_Host):
    """Uses the request helpers of ``ElasticStore``."""

    # ------------------------------------------------------------ state documents

    def _put_state(
        self,
        doc_id: str,
        kind: str,
        doc: dict[str, Any],
        *,
        create: bool = False,
        guard: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Write one state document. ``create``: fail with ConflictError if it exists; ``guard``: the
        document as read (with ``_seq_no``), fail with ConflictError if it changed since."""
        options: dict[str, Any] = {}
        if create:
            options["op_type"] = "create"
        elif guard is not None:
            options["if_seq_no"] = guard["_seq_no"]
            options["if_primary_term"] = guard["_primary_term"]
        document = state_document(doc_id, kind, doc, **fields)
        self._call(
            self.es.index, index=self.index("state"), id=doc_id, document=document, refresh="wait_for", **options
        )

    def _get_state(self, doc_id: str) -> dict[str, Any] | None:
        """The document as stored (``_source``, ``_seq_no``, ``_primary_term``), or None."""
        return self._mget("state", [doc_id]).get(doc_id)

    def _state_docs(self, kind: str, **terms: Any) -> list[dict[str, Any]]:
        """Every state document of a kind (and field values), in write order."""
        clauses = [{"term": {"kind": {"value": kind}}}]
        clauses += [{"term": {k: {"value": v}}} for k, v in terms.items() if v is not None]
        hits = self._scan("state", {"bool": {"filter": clauses}})
        return sorted((hit["_source"] for hit in hits), key=lambda s: s["seq"])

    def _event(self, kind: str, actor: str, action: str, detail: Any, **fields: Any) -> None:
        doc = {"actor": actor, "action": action, "detail": detail}
        self._put_state(f"{kind}:{time.time_ns()}:{id(doc)}", kind, doc, **fields)

    # ------------------------------------------------------------ API keys

    def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        self._put_state(
            f"key:{key.id}", "api_key", {**key.model_dump(mode="json"), "secret_hash": secret_hash}, create=True
        )

    def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        state = self._get_state(f"key:{key_id}")
        if state is None:
            return None
        doc = dict(state["_source"]["doc"])
        secret_hash = doc.pop("secret_hash")
        return ApiKey.model_validate(doc), secret_hash

    def list_api_keys(self) -> list[ApiKey]:
        keys = []
        for source in self._state_docs("api_key"):
            doc = dict(source["doc"])
            doc.pop("secret_hash", None)
            keys.append(ApiKey.model_validate(doc))
        return sorted(keys, key=lambda k: k.created_at)

    def revoke_api_key(self, key_id: str) -> ApiKey:
        state = self._get_state(f"key:{key_id}")
        if state is None:
            raise NotFoundError(f"no API key {key_id!r}", hint="list the ids with `vocmine keys list`")
        doc = dict(state["_source"]["doc"])
        if doc.get("revoked_at") is None:
            doc["revoked_at"] = utcnow().isoformat()
            self._put_state(f"key:{key_id}", "api_key", doc, guard=state)
        doc.pop("secret_hash")
        return ApiKey.model_validate(doc)

    # ------------------------------------------------------------ review queue

    def review_queue(self, query: ReviewQuery) -> ReviewPage:
        extra: list[dict[str, Any]] = [ANALYSED.to_dict(), {"range": {"max_severity": {"gte": query.min_severity}}}]
        if query.statuses:
            extra.append({"terms": {"review_status": list(query.statuses)}})
        if query.assignee is not None:
            extra.append({"term": {"review_assignee": {"value": query.assignee}}})
        body: dict[str, Any] = {
            "query": self._conversation_query(query.filter, *extra),
            "sort": [
                {"max_severity": {"order": "desc"}},
                {"started_at": {"order": "desc", "missing": "_last"}},
                {"conversation_id": {"order": "desc"}},
            ],
            "size": query.limit + 1,
            "track_total_hits": True,
            "_source": {"includes": _REVIEW_FIELDS},
        }
        if query.cursor:
            body["search_after"] = decode_cursor(query.cursor, 3)
        response = self._search("conversations", body)
        hits = response["hits"]["hits"]
        page = hits[: query.limit]
        reviews = self._mget("state", [f"review:{h['_id']}" for h in page])
        items = [_state(h["_id"], h["_source"], reviews.get(f"review:{h['_id']}")) for h in page]
        cursor = encode_cursor(hits[query.limit - 1]["sort"]) if len(hits) > query.limit else None
        return ReviewPage(items=items, total=response["hits"]["total"]["value"], next_cursor=cursor)

    def _review(self, conversation_id: str) -> tuple[ReviewState, dict[str, Any] | None]:
        """The review state and its stored document (None until the first action)."""
        conversation = self._mget("conversations", [conversation_id], includes=_REVIEW_FIELDS).get(conversation_id)
        if conversation is None or not conversation["_source"].get("versions_key"):
            raise NotFoundError(
                f"no analysed conversation {conversation_id!r}", hint="take an id from the review queue"
            )
        stored = self._get_state(f"review:{conversation_id}")
        return _state(conversation_id, conversation["_source"], stored), stored

    def get_review(self, conversation_id: str) -> ReviewState:
        return self._review(conversation_id)[0]

    def _save_review(self, state: ReviewState, stored: dict[str, Any] | None) -> None:
        """Write the review (revision + 1) guarded by what was read, then copy status and assignee
        onto the conversation for the queue."""
        doc = state.model_dump(
            mode="json", include={"status", "assignee", "loop_closed", "loop_closed_at", "notes", "corrections"}
        )
        doc["revision"] = state.revision + 1
        try:
            self._put_state(
                f"review:{state.conversation_id}",
                "review",
                doc,
                create=stored is None,
                guard=stored,
                conversation_id=state.conversation_id,
                status=state.status,
                assignee=state.assignee,
            )
        except ConflictError as exc:
            raise ConflictError(
                f"the review of {state.conversation_id} was changed by someone else meanwhile",
                hint="reload it and apply your change again",
            ) from exc
        self._write(
            "conversations",
            [
                (
                    state.conversation_id,
                    BulkAction("update", {"review_status": state.status, "review_assignee": state.assignee}),
                )
            ],
            refresh="wait_for",
        )

    def update_review(
        self,
        conversation_id: str,
        actor: str,
        *,
        status: str | None = None,
        assignee: str | None = None,
        unassign: bool = False,
        loop_closed: bool | None = None,
        expected_revision: int | None = None,
    ) -> ReviewState:
        current, stored = self._review(conversation_id)
        changes = review_changes(
            current,
            status=status,
            assignee=assignee,
            unassign=unassign,
            loop_closed=loop_closed,
            expected_revision=expected_revision,
        )
        if changes:
            self._save_review(current.model_copy(update=changes), stored)
            self._event("review_event", actor, "update", _jsonable(changes), conversation_id=conversation_id)
        return self.get_review(conversation_id)

    def add_review_note(self, conversation_id: str, actor: str, text: str) -> ReviewState:
        current, stored = self._review(conversation_id)
        note = ReviewNote(at=utcnow(), author=actor, text=text)
        self._save_review(current.model_copy(update={"notes": [*current.notes, note]}), stored)
        self._event("review_event", actor, "note", {"length": len(text)}, conversation_id=conversation_id)
        return self.get_review(conversation_id)

    def add_label_correction(self, conversation_id: str, actor: str, correction: LabelCorrection) -> ReviewState:
        current, stored = self._review(conversation_id)
        kept = correction.model_copy(update={"at": utcnow(), "author": actor})
        self._save_review(current.model_copy(update={"corrections": [*current.corrections, kept]}), stored)
        detail = kept.model_dump(mode="json")
        self._put_state(f"feedback:{time.time_ns()}", "feedback", detail, conversation_id=conversation_id)
        self._event("review_event", actor, "correction", detail, conversation_id=conversation_id)
        return self.get_review(conversation_id)

    def enqueue_review(self, conversation_id: str, actor: str, reason: str) -> bool:
        """Put a conversation in the queue (an alert fired); False if it already had a review."""
        current, stored = self._review(conversation_id)
        created = stored is None
        if created:
            try:
                self._save_review(current, None)
            except ConflictError:
                created = False  # someone else created it meanwhile
        self._event("review_event", actor, "alert", {"reason": reason}, conversation_id=conversation_id)
        return created

    def alert_review(self, conversation_id: str, actor: str, reason: str) -> bool:
        # The first alert of an actor on a conversation is a document of a fixed id, created only if
        # it does not exist: Elasticsearch decides which of two writers at once was first.
        try:
            self._put_state(f"first-alert:{actor}:{conversation_id}", "first_alert", {}, create=True)
            first = True
        except ConflictError:
            first = False
        self.enqueue_review(conversation_id, actor, reason)
        return first

    def review_events(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {"at": s["at"], "actor": s["doc"]["actor"], "conversation_id": s["conversation_id"],
             "action": s["doc"]["action"], "detail": s["doc"]["detail"]}
            for s in self._state_docs("review_event", conversation_id=conversation_id)
        ]  # fmt: skip

    def iter_label_feedback(self) -> list[tuple[str, LabelCorrection]]:
        return [(s["conversation_id"], LabelCorrection.model_validate(s["doc"])) for s in self._state_docs("feedback")]

    # ------------------------------------------------------------ alerts

    def save_upload_job(self, job: UploadJob) -> None:
        self._put_state(f"job:{job.id}", "upload_job", job.record())

    def get_upload_job(self, job_id: str) -> UploadJob | None:
        state = self._get_state(f"job:{job_id}")
        return UploadJob.model_validate(state["_source"]["doc"]) if state else None

    def unfinished_upload_jobs(self) -> list[UploadJob]:
        jobs = [UploadJob.model_validate(s["doc"]) for s in self._state_docs("upload_job")]
        return sorted((j for j in jobs if j.state in ("queued", "running")), key=lambda j: j.created_at)

    def save_alert_rule(self, rule: AlertRule) -> None:
        self._put_state(f"alert:{rule.id}", "alert_rule", rule.model_dump(mode="json"), rule_id=rule.id)

    def list_alert_rules(self) -> list[AlertRule]:
        return sorted((AlertRule.model_validate(s["doc"]) for s in self._state_docs("alert_rule")), key=lambda r: r.id)

    def delete_alert_rule(self, rule_id: str) -> None:
        if self._get_state(f"alert:{rule_id}") is None:
            raise NotFoundError(f"no alert rule {rule_id!r}", hint="list them with GET /v1/alerts/rules")
        self._call(self.es.delete, index=self.index("state"), id=f"alert:{rule_id}", refresh="wait_for")

    def record_delivery(
        self, rule_id: str, conversation_id: str, status: str, attempts: int, error: str | None
    ) -> None:
        self._put_state(
            f"delivery:{time.time_ns()}",
            "delivery",
            {"attempts": attempts, "error": error},
            rule_id=rule_id,
            conversation_id=conversation_id,
            status=status,
        )

    def list_deliveries(self, rule_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {"at": s["at"], "rule_id": s["rule_id"], "conversation_id": s["conversation_id"], "status": s["status"],
             "attempts": s["doc"]["attempts"], "error": s["doc"]["error"]}
            for s in self._state_docs("delivery", rule_id=rule_id)
        ]  # fmt: skip


def state_document(doc_id: str, kind: str, doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A state index document: its kind and key, when it was written (``seq`` orders audit trails),
    the record, and the keyword fields lookups use."""
    return {"kind": kind, "key": doc_id, "at": utcnow().isoformat(), "seq": time.time_ns(), "doc": doc, **fields}


def _state(conversation_id: str, conversation: dict[str, Any], stored: dict[str, Any] | None) -> ReviewState:
    review = stored["_source"]["doc"] if stored else {}
    return ReviewState(
        conversation_id=conversation_id,
        status=review.get("status", "new"),
        assignee=review.get("assignee"),
        loop_closed=review.get("loop_closed", False),
        loop_closed_at=review.get("loop_closed_at"),
        revision=review.get("revision", 0),
        max_severity=conversation.get("max_severity") or 0,
        signals=sorted(conversation.get("signals") or []),
        started_at=conversation.get("started_at"),
        channel=conversation.get("channel"),
        notes=review.get("notes", []),
        corrections=review.get("corrections", []),
    )


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changes.items()}

"""API keys, the review queue and alert rules in every store backend."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from vocmine.errors import ConflictError, NotFoundError
from vocmine.schema import AlertRule, ApiKey, LabelCorrection, UploadJob
from vocmine.store.query import ConversationFilter, ReviewQuery
from vocmine.testing.factories import analysis, conversation, vectors


class StateContract:
    """The store contract for API keys, review, alerts and upload jobs.

    A backend's test class inherits it and gives a ``store`` fixture."""

    def test_api_keys_keep_only_the_hash_and_revoke(self, store):
        store.add_api_key(ApiKey(id="k1", name="dashboard", scopes=["read"], created_at=datetime.now(UTC)), "h1")
        key, secret_hash = store.find_api_key("k1")
        assert (key.name, key.scopes, secret_hash, key.revoked_at) == ("dashboard", ["read"], "h1", None)
        assert store.find_api_key("k2") is None
        assert store.revoke_api_key("k1").revoked_at is not None
        assert [k.id for k in store.list_api_keys()] == ["k1"] and store.find_api_key("k1")[0].revoked_at
        with pytest.raises(NotFoundError):
            store.revoke_api_key("k2")

    @pytest.fixture
    def flagged(self, store):
        calm, angry, worst = (
            conversation("calm", "thanks"),
            conversation("angry", "manager now"),
            conversation("worst", "lawyer"),
        )
        store.upsert_conversations([calm, angry, worst])
        store.write_analyses(
            [
                analysis(calm, label="positive"),
                analysis(angry, flags=("churn_risk",)),
                analysis(worst, flags=("escalation",)),
            ],
            [vectors(1), vectors(1), vectors(1)],
        )
        return store

    def test_the_queue_holds_flagged_conversations_most_severe_first(self, flagged):
        page = flagged.review_queue(ReviewQuery())
        assert [i.conversation_id for i in page.items] == ["worst", "angry"] and page.total == 2
        assert page.items[0].signals == ["escalation"] and page.items[0].status == "new"
        first = flagged.review_queue(ReviewQuery(limit=1))
        second = flagged.review_queue(ReviewQuery(limit=1, cursor=first.next_cursor))
        assert [i.conversation_id for i in first.items + second.items] == ["worst", "angry"]
        assert second.next_cursor is None
        assert [i.conversation_id for i in flagged.review_queue(ReviewQuery(min_severity=4)).items] == ["worst"]
        only_chat = flagged.review_queue(ReviewQuery(filter=ConversationFilter(channels=["email"])))
        assert only_chat.total == 0

    def test_the_queue_total_counts_what_paging_returns(self, flagged):
        flagged.update_review("worst", "ana", status="in_review", assignee="ana")
        flagged.alert_review("calm", "rule:r1", "a rule matched")  # a review row without a flag
        everything = ConversationFilter(channels=["chat", "email", "social", "call"])
        for statuses, assignee, severity, filter in itertools.product(
            ([], ["new"], ["in_review"], ["new", "in_review"], ["resolved"]),
            (None, "ana", "bo"),
            (0, 1, 4),
            (ConversationFilter(), everything),
        ):
            query = ReviewQuery(statuses=statuses, assignee=assignee, min_severity=severity, filter=filter, limit=1)
            seen, page = [], flagged.review_queue(query)
            while True:
                seen += page.items
                if page.next_cursor is None:
                    break
                page = flagged.review_queue(query.model_copy(update={"cursor": page.next_cursor}))
            assert page.total == len(seen), (statuses, assignee, severity, filter)

    def test_review_moves_notes_corrections_and_audit(self, flagged):
        state = flagged.update_review("worst", "ana", status="in_review", assignee="ana")
        assert (state.status, state.assignee, state.revision) == ("in_review", "ana", 1)
        assert [i.conversation_id for i in flagged.review_queue(ReviewQuery(statuses=["in_review"])).items] == ["worst"]
        assert [i.conversation_id for i in flagged.review_queue(ReviewQuery(assignee="ana")).items] == ["worst"]
        with pytest.raises(ConflictError, match="changed since revision 0"):
            flagged.update_review("worst", "bo", status="resolved", expected_revision=0)
        with pytest.raises(ConflictError, match="cannot become"):
            flagged.update_review("angry", "bo", status="resolved")
        flagged.add_review_note("worst", "ana", "called the customer back")
        flagged.add_label_correction(
            "worst", "ana", LabelCorrection(field="sentiment", value="neutral", previous="negative")
        )
        done = flagged.update_review("worst", "ana", status="resolved", loop_closed=True, expected_revision=3)
        assert done.status == "resolved" and done.loop_closed and done.loop_closed_at is not None
        assert [n.text for n in done.notes] == ["called the customer back"]
        assert [(cid, c.value, c.author) for cid, c in flagged.iter_label_feedback()] == [("worst", "neutral", "ana")]
        assert [e["action"] for e in flagged.review_events("worst")] == ["update", "note", "correction", "update"]
        assert flagged.enqueue_review("angry", "alerts", "rule r1") is True
        assert flagged.enqueue_review("angry", "alerts", "rule r1") is False
        with pytest.raises(NotFoundError):
            flagged.get_review("nobody")

    def test_an_alert_is_first_once_per_actor_and_conversation(self, flagged):
        assert flagged.alert_review("angry", "alert:r1", "matched r1") is True
        assert flagged.alert_review("angry", "alert:r1", "matched r1 again") is False  # a re-analysis
        assert flagged.alert_review("angry", "alert:r2", "matched r2") is True  # news to r2's receiver
        assert flagged.alert_review("worst", "alert:r1", "matched r1") is True
        assert flagged.get_review("angry").status == "new"
        alerts = [e for e in flagged.review_events("angry") if e["action"] == "alert"]
        assert [e["actor"] for e in alerts] == ["alert:r1", "alert:r1", "alert:r2"]

    def test_alert_rules_and_deliveries(self, store):
        store.save_alert_rule(AlertRule(id="r2", name="spikes", kind="theme_spike"))
        store.save_alert_rule(AlertRule(id="r1", name="vip", channels=["call"]))
        assert [r.id for r in store.list_alert_rules()] == ["r1", "r2"]
        store.record_delivery("r1", "c1", "failed", 3, "HTTP 500")
        store.record_delivery("r1", "c2", "delivered", 1, None)
        assert [(d["conversation_id"], d["status"], d["attempts"]) for d in store.list_deliveries("r1")] == [
            ("c1", "failed", 3),
            ("c2", "delivered", 1),
        ]
        store.delete_alert_rule("r2")
        assert [r.id for r in store.list_alert_rules()] == ["r1"]
        with pytest.raises(NotFoundError):
            store.delete_alert_rule("r2")

    def test_upload_job_records_are_replaced_and_read_back(self, store):
        queued = UploadJob(id="j1", state="queued", files=["a.jsonl"], report=None, bytes_read=0)
        store.save_upload_job(queued)
        assert store.get_upload_job("j1") == queued
        done = queued.model_copy(
            update={"state": "done", "bytes_read": 512, "report": {"records": {"read": 3, "stored": 3}}}
        )
        store.save_upload_job(done)
        assert store.get_upload_job("j1") == done
        assert store.get_upload_job("j2") is None

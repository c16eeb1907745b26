"""Bulk failure handling with a fake client (the live contract run is separate): retryable item
and request failures are retried with backoff, others are reported with their reason, nothing is
dropped silently."""

from __future__ import annotations

import elasticsearch
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

from vocmine.store.elastic.bulk import BulkWriter

DOCS = [(f"d{i}", {"conversation_id": f"c{i}"}) for i in range(4)]


def _item(doc_id, status, error=None):
    outcome = {"_id": doc_id, "status": status}
    if error:
        outcome["error"] = {"type": error, "reason": f"{error} on {doc_id}"}
    return {"index": outcome}


class FakeClient:
    """Answers each bulk call with the next scripted outcome: a dict of id -> status, or an exception."""

    def __init__(self, script):
        self.script = list(script)
        self.calls: list[list[str]] = []

    def options(self, **options):
        assert options == {"max_retries": 0}  # the writer's retries are the only ones
        return self

    def bulk(self, *, operations, refresh=False):
        ids = [op["index"]["_id"] for op in operations[::2]]
        self.calls.append(ids)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return {"errors": True, "items": [_item(i, *step.get(i, (201,))) for i in ids]}


def _api_error(status):
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "localhost", 9200))  # fmt: skip
    return elasticsearch.ApiError(f"HTTP {status}", meta=meta, body={})


def test_retryable_items_are_resent_alone_and_others_reported():
    client = FakeClient([{"d1": (429, "es_rejected_execution_exception"), "d2": (400, "mapper_parsing_exception")}, {}])
    waits = []
    report = BulkWriter(client, sleep=waits.append).write("vocmine-conversations", DOCS)
    assert client.calls == [["d0", "d1", "d2", "d3"], ["d1"]]
    assert waits == [0.5]
    assert report.written == 3 and report.retried == 1
    (failed,) = report.failed
    assert (failed.id, failed.status, failed.error_type) == ("d2", 400, "mapper_parsing_exception")


def test_a_failing_request_is_retried_then_every_item_reported():
    client = FakeClient([_api_error(503)] * 5)
    waits = []
    report = BulkWriter(client, sleep=waits.append).write("vocmine-segments", DOCS[:2])
    assert waits == [0.5, 1.0, 2.0, 4.0] and len(client.calls) == 5
    assert report.written == 0 and [f.id for f in report.failed] == ["d0", "d1"]
    assert all(f.status == 503 and "HTTP 503" in f.reason for f in report.failed)


def test_a_client_error_request_is_not_retried():
    client = FakeClient([_api_error(400)])
    report = BulkWriter(client, sleep=lambda _: None).write("vocmine-segments", DOCS[:1])
    assert len(client.calls) == 1 and report.failed[0].status == 400


def test_items_still_failing_after_the_last_retry_are_reported():
    client = FakeClient([{"d0": (503, "unavailable")}] * 5)
    report = BulkWriter(client, sleep=lambda _: None).write("vocmine-segments", DOCS[:1])
    assert len(client.calls) == 5 and report.failed[0].error_type == "unavailable"


def test_a_real_client_sends_a_failing_bulk_request_five_times_not_twenty():
    """The store's client retries 3 times on its own; for bulk writes only the writer retries."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from vocmine.store.elastic.store import ElasticOptions, _client

    sent = []

    class Unavailable(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            sent.append(self.path)
            body = b'{"error": {"type": "unavailable", "reason": "busy"}, "status": 503}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PUT = do_POST  # the client sends _bulk as PUT

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = _client(f"http://127.0.0.1:{server.server_port}", ElasticOptions())
        report = BulkWriter(client, sleep=lambda _: None).write("vocmine-conversations", DOCS[:2])
    finally:
        server.shutdown()
    assert len(sent) == 5 and all(path.startswith("/_bulk") for path in sent)
    assert [f.id for f in report.failed] == ["d0", "d1"] and report.failed[0].status == 503

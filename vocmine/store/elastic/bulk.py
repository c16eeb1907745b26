"""Bulk writes to Elasticsearch that lose nothing silently.

Each batch is sent as one ``_bulk`` request of idempotent upserts by id. Items answered 429 (too
many requests) or 5xx are sent again, alone, after a backoff (0.5 s, 1 s, 2 s, 4 s by default); a
whole request that fails that way (or cannot connect) is retried the same way. Any other item error
(a mapping conflict, a malformed document) is not retried: it is reported with the document's id,
status, error type and reason, as is anything still failing after the last retry.

This is the only retry policy for bulk writes: the requests go through ``client.options(max_retries=0)``
so the transport's own retries (3, for the store's other calls) do not stack under these (a failing
request was sent up to 20 times; now 5). The library's ``helpers.streaming_bulk`` was weighed and not
used: it retries only statuses, leaves connection errors to the transport's retries (a second policy)
and reports a request it could not send by raising, where this writer names every id it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from vocmine.store.elastic.docs import BulkItem

RETRYABLE = {429, 500, 502, 503, 504}


class BulkClient(Protocol):
    def options(self, *, max_retries: int) -> BulkClient: ...

    def bulk(self, *, operations: list[dict[str, Any]], refresh: bool | str = ...) -> Any: ...


@dataclass(frozen=True)
class FailedItem:
    id: str
    index: str
    status: int
    error_type: str
    reason: str


@dataclass
class BulkReport:
    written: int = 0
    retried: int = 0  # item sends beyond the first
    failed: list[FailedItem] = field(default_factory=list)


class BulkWriter:
    def __init__(
        self,
        client: BulkClient,
        *,
        delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.delays = tuple(delays)
        self.sleep = sleep

    def write(self, index: str, documents: Sequence[BulkItem], *, refresh: bool | str = False) -> BulkReport:
        report = BulkReport()
        pending = list(documents)
        for attempt in range(len(self.delays) + 1):
            if not pending:
                break
            if attempt:
                self.sleep(self.delays[attempt - 1])
                report.retried += len(pending)
            pending = self._send(index, pending, report, refresh, last=attempt == len(self.delays))
        return report

    def _send(
        self, index: str, documents: list[BulkItem], report: BulkReport, refresh: bool | str, *, last: bool
    ) -> list[BulkItem]:
        from elasticsearch import ApiError, ConnectionError, TransportError

        from vocmine.store.elastic.docs import bulk_operations

        try:
            response = self.client.options(max_retries=0).bulk(
                operations=bulk_operations(index, documents), refresh=refresh
            )
        except (ConnectionError, TransportError, ApiError) as exc:
            status = int(getattr(getattr(exc, "meta", None), "status", 0) or 0)
            if (status in RETRYABLE or isinstance(exc, ConnectionError | TransportError)) and not last:
                return documents
            reason = f"{type(exc).__name__}: {exc}"
            report.failed += [FailedItem(doc_id, index, status, "request_failed", reason) for doc_id, _ in documents]
            return []
        body = getattr(response, "body", response)
        retry = []
        for (doc_id, document), item in zip(documents, body.get("items", []), strict=True):
            op, outcome = next(iter(item.items()))
            status = int(outcome.get("status", 0))
            if status < 300 or (op == "delete" and status == 404):  # deleting what is gone is done
                report.written += 1
            elif status in RETRYABLE and not last:
                retry.append((doc_id, document))
            else:
                error = outcome.get("error") or {}
                report.failed.append(
                    FailedItem(doc_id, index, status, str(error.get("type", "error")), str(error.get("reason", "")))
                )
        return retry

"""Upload jobs' records in the embedded store (migration 10), mixed into ``SQLiteStore``: the job's
state, progress and report as JSON, written by the worker that runs it and read by any worker."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from vocmine.schema import UploadJob, utcnow

MIGRATION = "CREATE TABLE upload_jobs (id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);"


if TYPE_CHECKING:
    from vocmine.store.sqlite.host import SQLiteHost as _Host
else:
    _Host = object


class SQLiteJobsMixin(_Host):
    def save_upload_job(self, job: UploadJob) -> None:
        with self._lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO upload_jobs VALUES (?, ?, ?)",
                (job.id, json.dumps(job.record()), utcnow().isoformat()),
            )

    def get_upload_job(self, job_id: str) -> UploadJob | None:
        with self._reading() as conn:
            row = conn.execute("SELECT doc FROM upload_jobs WHERE id = ?", (job_id,)).fetchone()
        return UploadJob.model_validate(json.loads(row[0])) if row else None

    def unfinished_upload_jobs(self) -> list[UploadJob]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT doc FROM upload_jobs WHERE json_extract(doc, '$.state') IN ('queued', 'running')"
                " ORDER BY json_extract(doc, '$.created_at')"
            ).fetchall()
        return [UploadJob.model_validate(json.loads(row[0])) for row in rows]

"""Ingestion for the HTTP API: a JSON batch of conversations handled at once with a result per
record, and uploaded files handled as background jobs with progress and the same report as
``vocmine ingest``. Both analyse what they stored when an analyzer is given."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from vocmine.analysis.pipeline import Analyzer
from vocmine.ingest.prepare import Preparer
from vocmine.schema import Conversation, ConversationAnalysis, UploadJob, utcnow
from vocmine.services.analysis import analyze_store
from vocmine.services.ingestion import default_report_dir, ingest_paths
from vocmine.services.jobs_recovery import fail_orphaned_jobs, this_worker
from vocmine.settings import Settings
from vocmine.store.protocol import Store
from vocmine.store.query import UpsertOutcome

log = logging.getLogger(__name__)

Outcome = Literal["stored", "updated", "duplicate", "rejected"]
_OUTCOMES: dict[UpsertOutcome, Outcome] = {
    UpsertOutcome.NEW: "stored",
    UpsertOutcome.UPDATED: "updated",
    UpsertOutcome.UNCHANGED: "duplicate",
}


@dataclass
class RecordResult:
    index: int
    outcome: Outcome
    id: str | None = None
    error: str | None = None
    analysed: bool = False


OnAnalysed = Callable[[list[tuple[Conversation, ConversationAnalysis]]], None]


def ingest_batch(
    records: Sequence[dict[str, Any]],
    settings: Settings,
    store: Store,
    analyzer: Analyzer | None,
    on_analysed: OnAnalysed | None = None,
) -> list[RecordResult]:
    """Validate, redact and store each record (vocmine's conversation JSON), then analyse what was
    stored or changed. A bad record is rejected with its index and reason; the others go on."""
    preparer = Preparer(settings)
    results: list[RecordResult] = []
    accepted: dict[str, tuple[int, Conversation]] = {}
    for index, record in enumerate(records):
        try:
            conversation = preparer.conversation(Conversation.model_validate(record))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()[:5])
            results.append(RecordResult(index, "rejected", error=preparer.reason(problems)))
            continue
        if conversation.id in accepted:
            results.append(RecordResult(index, "duplicate", id=conversation.id, error="repeated in this batch"))
            continue
        accepted[conversation.id] = (index, conversation)
    conversations = [c for _, c in accepted.values()]
    outcomes = store.upsert_conversations(conversations) if conversations else []
    changed = []
    for (index, conversation), outcome in zip(accepted.values(), outcomes, strict=True):
        results.append(RecordResult(index, _OUTCOMES[outcome], id=conversation.id))
        if outcome is not UpsertOutcome.UNCHANGED:
            changed.append(conversation)
    if analyzer is not None and changed:
        analysed = analyzer.analyse(changed)
        store.write_analyses([a for a, _ in analysed], [v for _, v in analysed])
        if on_analysed:
            on_analysed([(c, a) for c, (a, _) in zip(changed, analysed, strict=True)])
        done = {c.id for c in changed}
        for result in results:
            result.analysed = result.id in done and result.outcome in ("stored", "updated")
    return sorted(results, key=lambda r: r.index)


MAX_STEM_CHARS = 80  # file systems take 255 bytes a name; the reader needs only the extensions


def _disk_name(number: int, name: str) -> str:
    """The name an uploaded file is kept under while its job runs: numbered, its extensions (which
    tell the reader the format: ``.csv.gz``) kept whole, the rest cut short."""
    suffixes = "".join(Path(name).suffixes[-2:])
    if len(suffixes) > 20:  # not extensions, just dots in a long name
        suffixes = ""
    stem = name[: len(name) - len(suffixes)] if suffixes else name
    encoded = stem.encode("utf-8")[:MAX_STEM_CHARS].decode("utf-8", errors="ignore")
    return f"{number:03d}-{encoded}{suffixes}"


PROGRESS_EVERY_S = 1.0  # how often a running job's progress is written to the store


class JobRunner:
    """Runs upload jobs one at a time on a background thread (SQLite has one writer anyway). Each
    job's record lives in the store, so with several API workers any of them answers for it; a
    job's files live in a temporary folder removed when it ends."""

    def __init__(
        self,
        settings: Settings,
        store: Callable[[], Store],
        analyzer: Callable[[], Analyzer | None],
        on_analysed: Callable[[], OnAnalysed | None] = lambda: None,
    ) -> None:
        # Callables, because the app opens its store and loads its models when it starts, after this.
        self.settings = settings
        self.store = store
        self.analyzer = analyzer
        self.on_analysed = on_analysed
        self._lock = threading.Lock()

    def submit(self, uploads: list[tuple[str, Any]]) -> UploadJob:
        """``uploads``: (file name, binary file object) pairs, copied to disk before returning."""
        folder = Path(tempfile.mkdtemp(prefix="vocmine-upload-"))
        names = []
        try:
            for number, (name, handle) in enumerate(uploads):
                safe = Path(name or f"upload-{number}").name or f"upload-{number}"
                with (folder / _disk_name(number, safe)).open("wb") as out:
                    shutil.copyfileobj(handle, out)
                names.append(safe)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # nothing of a failed upload stays on disk
            raise
        job = UploadJob(id=uuid.uuid4().hex[:12], files=names, worker=this_worker())
        self._save(job)
        threading.Thread(target=self._run, args=(job, folder), daemon=True).start()
        return job

    def recover(self) -> list[str]:
        """At start-up: fail the jobs whose process died (``jobs_recovery``); returns their ids."""
        failed = fail_orphaned_jobs(self.store())
        for job_id in failed:
            log.warning("upload job %s was left running by a process that stopped: marked failed", job_id)
        return failed

    def get(self, job_id: str) -> UploadJob | None:
        return self.store().get_upload_job(job_id)

    def _save(self, job: UploadJob) -> None:
        self.store().save_upload_job(job)

    def _run(self, job: UploadJob, folder: Path) -> None:
        with self._lock:
            job.state = "running"
            try:
                self._save(job)
                store = self.store()
                saved_at = [time.monotonic()]
                changed: set[str] = set()  # this job's conversations, the only ones it analyses
                report = ingest_paths(
                    [str(folder)],
                    self.settings,
                    store,
                    report_dir=default_report_dir(self.settings),
                    on_progress=lambda name, n: self._progress(job, name, n, saved_at),
                    on_changed=changed.add,
                )
                job.report = report.to_dict()
                self._save(job)
                analyzer = self.analyzer()
                if analyzer is not None:
                    result = analyze_store(
                        store,
                        analyzer,
                        batch_size=self.settings.analysis_batch,
                        ids=changed,
                        on_results=self.on_analysed(),
                    )
                    job.analysed = result.conversations
                job.state = "done"
            except Exception as exc:  # the job reports any failure to its caller
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished_at = utcnow()
                shutil.rmtree(folder, ignore_errors=True)
                try:
                    self._save(job)
                except Exception:  # the store itself failed: nothing left to report to
                    log.exception("could not record the end of upload job %s (%s)", job.id, job.state)

    def _progress(self, job: UploadJob, name: str, bytes_read: int, saved_at: list[float]) -> None:
        job.current_file = Path(name).name
        job.bytes_read = bytes_read
        if time.monotonic() - saved_at[0] >= PROGRESS_EVERY_S:
            self._save(job)
            saved_at[0] = time.monotonic()

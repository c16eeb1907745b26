"""Ingestion over HTTP: a JSON batch analysed and indexed at once with a result per record, and
file uploads (any format the CLI reads) processed as background jobs with progress and a report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel, Field

from vocmine.services.uploads import RecordResult, ingest_batch
from vocmine_api.deps import SettingsDep, StoreDep, require
from vocmine_api.errors import ApiError
from vocmine_api.routes.themes import NOT_FOUND

router = APIRouter(prefix="/v1", tags=["ingest"], dependencies=[Depends(require("ingest"))])


class Batch(BaseModel):
    conversations: list[dict[str, Any]] = Field(description="conversation records in vocmine's JSON (docs/formats.md)")


class BatchResult(BaseModel):
    stored: int
    updated: int
    duplicate: int
    rejected: int
    analysed: int
    results: list[RecordResult]


class JobView(BaseModel):
    id: str
    state: str
    files: list[str]
    created_at: str
    finished_at: str | None
    current_file: str | None
    bytes_read: int
    analysed: int
    report: dict[str, Any] | None
    error: str | None


@router.post("/ingest/conversations", response_model=BatchResult, responses=NOT_FOUND)
def ingest_conversations(
    body: Batch,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> BatchResult:
    """Store (redacted, deduplicated) and analyse a batch; one result per record, in order."""
    if len(body.conversations) > settings.api_max_batch:
        raise ApiError(400, f"{len(body.conversations)} conversations is over {settings.api_max_batch} per request",
                       "split the batch")  # fmt: skip
    state = request.app.state
    results = ingest_batch(body.conversations, settings, store, state.analyzer, state.on_analysed)
    count = {k: sum(r.outcome == k for r in results) for k in ("stored", "updated", "duplicate", "rejected")}
    return BatchResult(**count, analysed=sum(r.analysed for r in results), results=results)


@router.post("/ingest/files", response_model=JobView, status_code=202, responses=NOT_FOUND)
def ingest_files(request: Request, files: Annotated[list[UploadFile], File(description="files to ingest")]) -> JobView:
    """Start a background job over uploaded files; poll GET /v1/jobs/{id}."""
    if not files:
        raise ApiError(400, "no files uploaded", "send one or more multipart 'files' parts")
    job = request.app.state.jobs.submit([(f.filename or "", f.file) for f in files])
    return JobView(**job.record())


@router.get("/jobs/{job_id}", response_model=JobView, responses=NOT_FOUND)
def get_job(job_id: str, request: Request) -> JobView:
    """A job's state and progress; its ingestion report when done."""
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id!r}", "use the id that POST /v1/ingest/files returned")
    return JobView(**job.record())

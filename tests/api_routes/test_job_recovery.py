"""Upload jobs left running by an API process that died are failed when the API starts again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from fastapi.testclient import TestClient

from vocmine.schema import UploadJob
from vocmine.services.jobs_recovery import this_worker, worker_alive
from vocmine_api import create_app


def _dead_worker() -> str:
    """The worker id of a process that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "from vocmine.services.jobs_recovery import this_worker; print(this_worker())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return child.stdout.strip()


def test_a_worker_is_alive_while_its_process_runs_and_only_then():
    assert worker_alive(this_worker())
    assert not worker_alive(_dead_worker())
    host, pid, started = this_worker().rsplit(":", 2)
    # Our pid, but recorded by an earlier process (a container restart reuses pids).
    assert not worker_alive(f"{host}:{pid}:{started}0" if started else f"{host}:{pid}:1")
    assert worker_alive(f"elsewhere-{socket.gethostname()}:{os.getpid()}:1")  # another host: cannot tell
    assert worker_alive("not a worker id")


def test_jobs_of_a_stopped_process_are_failed_at_start_up_and_others_kept(api_store, settings):
    orphan = UploadJob(id="orphan", files=["a.jsonl"], state="running", worker=_dead_worker())
    queued = UploadJob(id="queued", files=["b.jsonl"], state="queued", worker=_dead_worker())
    alive = UploadJob(id="alive", files=["c.jsonl"], state="running", worker=this_worker())
    done = UploadJob(id="done", files=["d.jsonl"], state="done", worker=_dead_worker())
    for job in (orphan, queued, alive, done):
        api_store.save_upload_job(job)
    assert [j.id for j in api_store.unfinished_upload_jobs()] == ["orphan", "queued", "alive"]
    with TestClient(create_app(settings, store=api_store)):
        pass
    for job_id in ("orphan", "queued"):
        job = api_store.get_upload_job(job_id)
        assert job is not None and job.state == "failed" and "upload the files again" in (job.error or "")
        assert job.finished_at is not None
    assert api_store.get_upload_job("alive").state == "running"  # another worker's, still at work
    assert api_store.get_upload_job("done").state == "done"

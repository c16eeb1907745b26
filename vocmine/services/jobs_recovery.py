"""Upload jobs whose process died: found when the API starts, and marked failed.

A job runs on a thread of the API process that accepted the upload. If that process dies (killed,
out of memory, the machine restarted), its job would stay ``running`` forever. Each job records the
process running it as ``host:pid:start time``; at start-up every worker looks at the unfinished jobs
and fails those whose process is gone: on this host, a pid that no longer exists, or exists but
started at another time (the pid was reused, as happens after a container restart). A job from
another host is left alone: its process cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from vocmine.schema import utcnow
from vocmine.store.protocol import Store


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name in parentheses may hold spaces


def this_worker() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def worker_alive(worker: str) -> bool:
    """False only when the worker is known to be gone."""
    try:
        host, pid_text, started = worker.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return True  # not a worker id this code wrote: cannot judge
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return worker == this_worker()  # our pid, but an earlier process's
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return not started or _start_time(pid) in ("", started)


def fail_orphaned_jobs(store: Store) -> list[str]:
    """Mark failed the unfinished jobs whose process is gone; returns their ids."""
    failed = []
    for job in store.unfinished_upload_jobs():
        if job.worker is None or worker_alive(job.worker):
            continue
        job.state = "failed"
        job.error = (
            f"the API process that ran this job ({job.worker}) stopped before it finished; what it had "
            "stored is kept: upload the files again to complete it (stored conversations count as duplicates)"
        )
        job.finished_at = utcnow()
        store.save_upload_job(job)
        failed.append(job.id)
    return failed

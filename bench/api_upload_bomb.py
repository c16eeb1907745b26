"""Memory of the API server while it takes an upload of a compression bomb, this checkout's code and
an older commit's in the same run (each side serves its own store, in its own process).

    python bench/api_upload_bomb.py --old <commit> [--field-mb 1024] [--out bench/results/api_upload_bomb.json]

The upload is ``ingest_bomb.py``'s file: a posts CSV whose second row's text is ``--field-mb`` MB of
one letter, gzip-compressed (1 GB compresses to about 1 MB). Each side runs ``vocmine serve`` without
models (``VOCMINE_API_LOAD_MODELS=false``: what is measured is reading the upload, not the models'
fixed cost), takes the file on ``POST /v1/ingest/files`` with an ingest key, and the bench polls the
job until it ends while it samples the server's resident memory every 20 ms. Reported: resident
memory before the upload, the highest sample and the kernel's high-water mark (``VmHWM``), the job's
state, records stored and rejected, and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ingest_bomb import write_bomb  # noqa: E402
from sides import worktree  # noqa: E402

# The CLI's entry point, wherever the side's code keeps it (a package now, one module before).
_CLI = """import sys
try:
    from vocmine.cli.main import main
except ModuleNotFoundError:
    from vocmine.cli import main
sys.argv = ["vocmine", *sys.argv[1:]]
main()
"""


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _key(code_root: Path, store: str, workdir: str) -> str:
    """An ingest key, made by the side's own CLI (its modules moved between versions; the CLI did not)."""
    command = [sys.executable, "-c", _CLI, "keys", "create", "--name", "bench", "--scope", "ingest"]
    command += ["--store", f"sqlite:///{store}", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=_env(code_root, workdir))
    return str(json.loads(done.stdout)["token"])


def _env(code_root: Path, workdir: str) -> dict[str, str]:
    # ``vocmine_api`` is the checkout's api/ folder under another name (setup.py maps it); a link of
    # that name in the side's work folder puts the side's own API first on the path.
    names = Path(workdir) / "packages"
    names.mkdir(exist_ok=True)
    if not (names / "vocmine_api").exists():
        (names / "vocmine_api").symlink_to(code_root / "api")
    return {
        **os.environ,
        "PYTHONPATH": f"{code_root}:{names}",
        "VOCMINE_API_LOAD_MODELS": "false",
        "VOCMINE_DETECT_LANGUAGE": "false",
        "HF_HUB_OFFLINE": "1",
    }


def measure(code_root: Path, bomb: Path) -> dict[str, object]:
    import httpx

    with tempfile.TemporaryDirectory(prefix="api-bomb-") as workdir:
        store = f"{workdir}/store.sqlite"
        token = _key(code_root, store, workdir)
        port = _free_port()
        env = _env(code_root, workdir) | {"VOCMINE_REPORT_DIR": f"{workdir}/reports"}
        server = subprocess.Popen(
            [sys.executable, "-c", _CLI, "serve", "--store", f"sqlite:///{store}", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(Path(workdir) / "server.log").open("w"),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            before = _memory_mb(server.pid, "VmRSS")
            peak = [before]
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set() and server.poll() is None:
                    try:
                        peak[0] = max(peak[0], _memory_mb(server.pid, "VmRSS"))
                    except FileNotFoundError:  # the server ended between the check and the read
                        break
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            headers = {"Authorization": f"Bearer {token}"}
            started = time.perf_counter()
            try:
                with bomb.open("rb") as handle:
                    files = [("files", (bomb.name, handle, "application/gzip"))]
                    accepted = httpx.post(f"{base}/v1/ingest/files", headers=headers, files=files, timeout=120)
                job = accepted.json()
                while job.get("state") in ("queued", "running"):
                    time.sleep(0.1)
                    job = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=headers, timeout=30).json()
            except httpx.HTTPError as exc:
                stop.set()
                log = (Path(workdir) / "server.log").read_text(errors="replace")[-1500:]
                return {
                    "error": f"{type(exc).__name__}: {exc}",
                    "server_exit": server.poll(),
                    "rss_before_mb": round(before, 1),
                    "server_log": log,
                }
            seconds = time.perf_counter() - started
            stop.set()
            sampler.join()
            return {
                "upload_status": accepted.status_code,
                "job_state": job.get("state"),
                "records": (job.get("report") or {}).get("records"),
                "rss_before_mb": round(before, 1),
                "rss_peak_sampled_mb": round(peak[0], 1),
                "rss_high_water_mb": round(_memory_mb(server.pid, "VmHWM"), 1),
                "seconds": round(seconds, 2),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", help="a commit to compare with (checked out in a temporary worktree)")
    parser.add_argument("--field-mb", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api_upload_bomb.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bomb-") as folder:
        bomb = Path(folder) / "posts.csv.gz"
        write_bomb(bomb, args.field_mb)
        results: dict[str, object] = {"field_mb": args.field_mb, "upload_bytes": bomb.stat().st_size}
        results["new"] = measure(ROOT, bomb)
        print("new", json.dumps(results["new"]), flush=True)
        if args.old:
            with worktree(args.old) as old:
                results["old_commit"] = args.old
                results["old"] = measure(Path(old), bomb)
                print("old", json.dumps(results["old"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

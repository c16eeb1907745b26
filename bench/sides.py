"""Old code against new in the same benchmark run: a function of a bench module, called in a fresh
process with a given checkout's ``vocmine`` first on the path, and a temporary git worktree of an
older commit to be that checkout."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def call_in_side(code_root: Path, module: str, function: str, *args: str) -> Any:
    """``module.function(*args)`` (a module in bench/) run with ``code_root``'s code; it must return JSON."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code_root)}
    # The side's shipped models too: an editable install maps ``vocmine.models`` to this checkout's
    # models/ whatever the path says, so without this an older side ran with today's models.
    models = code_root / "models"
    script = (
        f"import json, sys, importlib.util; sys.path.insert(0, {str(code_root)!r}); "
        f"sys.path.insert(1, {str(ROOT / 'bench')!r}); import vocmine; "
        f"spec = importlib.util.spec_from_file_location('vocmine.models', {str(models / '__init__.py')!r}, "
        f"submodule_search_locations=[{str(models)!r}]); "
        "sys.modules['vocmine.models'] = importlib.util.module_from_spec(spec); "
        "spec.loader.exec_module(sys.modules['vocmine.models']); "
        f"from {module} import {function}; print(json.dumps({function}(*{list(args)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the side at {code_root} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A temporary checkout of ``commit``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-old-") as folder:
        path = Path(folder) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit], check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=True)

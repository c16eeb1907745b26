"""Where vocmine keeps what it derives once per machine from installed files (an exported encoder
graph, the language identifier's tables unpacked): ``$XDG_CACHE_HOME/vocmine``, by default
``~/.cache/vocmine``. Everything here can be deleted; it is derived again on next use."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(kind: str) -> Path:
    """The folder for one kind of cached artifact (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vocmine" / kind

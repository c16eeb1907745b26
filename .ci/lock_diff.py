"""Print how the packages installed in this environment differ from a lock file.

``make test-latest`` runs it after installing the newest versions pyproject's ranges allow, so the
run says which dependencies moved before its test results say whether that matters.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from vocmine.extras import normalised_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(path: Path) -> dict[str, str]:
    pins = (PIN.match(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {normalised_name(m[1]): m[2] for m in pins if m}


def installed() -> dict[str, str]:
    found = {normalised_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    found.pop("vocmine", None)
    return found


def main(lock: Path) -> None:
    pins, present = locked(lock), installed()
    both = pins.keys() & present.keys()
    moved = sorted((name, pins[name], present[name]) for name in both if pins[name] != present[name])
    added = sorted(present.keys() - pins.keys() - {"pip"})
    gone = sorted(pins.keys() - present.keys())
    print(f"against {lock}: {len(moved)} moved, {len(added)} not in the lock, {len(gone)} locked but not installed")
    for name, old, new in moved:
        print(f"  {name}: {old} -> {new}")
    for name in added:
        print(f"  + {name} {present[name]}")
    for name in gone:
        print(f"  - {name} {pins[name]}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

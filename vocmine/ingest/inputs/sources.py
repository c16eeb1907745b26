"""Turn the paths a user gives (files, directories, globs, .gz, .zip) into input streams.

Nothing is read into memory here: each ``InputFile`` opens a binary stream when asked, so a large
mbox or a large archive member is read as it is parsed.
"""

from __future__ import annotations

import functools
import glob
import gzip
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vocmine.errors import InputPathError


@dataclass(frozen=True)
class InputFile:
    """One input to read. ``name`` is what reports show; ``format_name`` is the name format
    detection looks at (without a .gz suffix)."""

    name: str
    format_name: str
    size: int | None  # bytes on disk (compressed size for .gz), for progress
    opener: Callable[[], BinaryIO]
    compressed: bool = False  # what is read is inflated from ``size`` bytes (gzip, a zip member)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        stream = self.opener()
        try:
            yield stream
        finally:
            stream.close()


# Files an export folder carries beside the data (a README, notes): skipped when a directory is walked,
# read like any file when named on their own.
_DOCUMENTATION = (".md", ".markdown", ".rst")


@dataclass(frozen=True)
class SkippedInput:
    name: str
    reason: str


def expand_inputs(paths: list[str]) -> tuple[list[InputFile], list[SkippedInput]]:
    """Resolve every path; a path given that does not exist or cannot be read raises InputPathError
    naming it, before anything is ingested. Directories are walked recursively in sorted order;
    inside them, hidden files, broken links, files that cannot be read and anything that is not a
    regular file (a FIFO would block the run, a device never end) are skipped and listed with the
    reason, and the rest is read."""
    files: list[InputFile] = []
    skipped: list[SkippedInput] = []
    for raw in paths:
        matches = sorted(glob.glob(raw, recursive=True)) if glob.has_magic(raw) else [raw]
        if not matches:
            raise InputPathError(f"no file matches {raw!r}", hint="check the pattern and quote it")
        for match in matches:
            _expand_one(Path(match), files, skipped)
    return files, skipped


def _expand_one(path: Path, files: list[InputFile], skipped: list[SkippedInput]) -> None:
    if not path.exists():
        raise InputPathError(f"input path does not exist: {path}", hint="check the spelling")
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputPathError(f"cannot read directory: {path}", hint="check its permissions")
        for child in sorted(path.rglob("*")):
            if child.is_dir():
                continue
            if any(part.startswith(".") for part in child.relative_to(path).parts):
                skipped.append(SkippedInput(str(child), "hidden file"))
                continue
            if child.suffix.lower() in _DOCUMENTATION or child.stem.upper() in ("README", "LICENSE"):
                skipped.append(SkippedInput(str(child), "documentation (README, .md), not an export"))
                continue
            unusable = _unusable(child)
            if unusable:
                skipped.append(SkippedInput(str(child), unusable))
                continue
            _expand_file(child, files, skipped)
        return
    if not path.is_file():
        raise InputPathError(f"not a regular file: {path}", hint="give a file or a directory (not a pipe or device)")
    if not os.access(path, os.R_OK):
        raise InputPathError(f"cannot read file: {path}", hint="check its permissions")
    _expand_file(path, files, skipped)


def _unusable(path: Path) -> str | None:
    """Why a file found in a directory cannot be read as an input, or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "broken link"
    except OSError as exc:
        return f"cannot be examined: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permissions)"
    return None


def _expand_file(path: Path, files: list[InputFile], skipped: list[SkippedInput]) -> None:
    name = str(path)
    size = path.stat().st_size
    lower = name.lower()
    if lower.endswith(".zip"):
        files.extend(_zip_members(path, skipped))
    elif lower.endswith(".gz"):
        files.append(InputFile(name, name[:-3], size, functools.partial(_open_gzip, path), compressed=True))
    else:
        files.append(InputFile(name, name, size, functools.partial(_open_file, path)))


def _zip_members(path: Path, skipped: list[SkippedInput]) -> list[InputFile]:
    """Each member of an archive is an input of its own, named ``archive.zip!member``. A corrupt
    archive becomes one input whose opening fails, so the run reports it like any unreadable file."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        message = f"not a readable zip archive: {exc}"

        def fail() -> BinaryIO:
            raise OSError(message)

        return [InputFile(str(path), str(path), path.stat().st_size, fail)]
    members = []
    for info in infos:
        member = info.filename
        display = f"{path}!{member}"
        format_name = member[:-3] if member.lower().endswith(".gz") else member

        def opener(p: Path = path, m: str = member) -> BinaryIO:
            archive = zipfile.ZipFile(p)
            stream: BinaryIO = archive.open(m)  # type: ignore[assignment]
            if m.lower().endswith(".gz"):
                stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
            return stream

        if any(part.startswith(".") or part == "__MACOSX" for part in Path(member).parts):
            skipped.append(SkippedInput(display, "hidden file"))
            continue
        compressed = info.compress_type != zipfile.ZIP_STORED or member.lower().endswith(".gz")
        members.append(InputFile(display, format_name, info.compress_size, opener, compressed=compressed))
    return members


def _open_file(path: Path) -> BinaryIO:
    return open(path, "rb")


def _open_gzip(path: Path) -> BinaryIO:
    return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile reads bytes as a BinaryIO does

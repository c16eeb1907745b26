"""Which of vocmine's optional extras brings a module that is missing.

A core install (``pip install vocmine``) reads, stores and searches; analysis, the HTTP API and the
Elasticsearch backend come with extras. When a command reaches a module that is not installed, the
user is told which extra to install instead of shown a traceback. The answer is read from the
installed package's own metadata (its ``Requires-Dist`` lines), so it cannot drift from
pyproject.toml.
"""

from __future__ import annotations

import re
from importlib import metadata, util

# Import names that differ from the distribution's name (everything else: lower-case, _ -> -).
_DISTRIBUTION_OF = {"sklearn": "scikit-learn", "umap": "umap-learn", "multipart": "python-multipart"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*;.*extra\s*==\s*['\"]([^'\"]+)['\"]")
_DEVELOPMENT_ONLY = {"dev"}


def normalised_name(name: str) -> str:
    """A distribution name as packaging compares it (PEP 503): lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def extras_providing(module: str) -> list[str]:
    """The user-facing extras whose requirements include the distribution of ``module`` (a top-level
    import name), in the order pyproject lists them; empty when none does or vocmine is not installed."""
    top = module.split(".")[0]
    wanted = normalised_name(_DISTRIBUTION_OF.get(top, top))
    try:
        requirements = metadata.requires("vocmine") or []
    except metadata.PackageNotFoundError:
        return []
    found: list[str] = []
    for line in requirements:
        match = _REQUIREMENT.match(line)
        if not match or normalised_name(match[1]) != wanted:
            continue
        if match[2] not in _DEVELOPMENT_ONLY and match[2] not in found:
            found.append(match[2])
    return found


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """What to tell the user for an import that failed, or None when no extra of ours brings it (then
    the error is a real bug and is not hidden)."""
    if not exc.name:
        return None
    extras = extras_providing(exc.name)
    if not extras:
        return None
    top = exc.name.split(".")[0]
    also = f"; the {', '.join(extras[1:])} extra has it too" if len(extras) > 1 else ""
    install = f"pip install 'vocmine[{extras[0]}]'"
    return f"this command needs {top!r}, which is not installed: {install} ({extras[0]} extra{also})"


# What the analysis needs, checked before a command starts work it could not finish.
ANALYSIS_MODULES = ("torch", "sentence_transformers", "safetensors", "umap", "hdbscan")


def ensure_installed(*modules: str) -> None:
    """Raise the ModuleNotFoundError that the command line turns into an install hint, up front, when
    one of ``modules`` is not installed (found without importing it)."""
    for module in modules:
        if util.find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)

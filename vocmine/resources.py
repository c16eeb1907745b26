"""Where the files vocmine ships are: the model folders and the signal rules.

Found through importlib.resources, so they are where the package is, whatever the install: a wheel
in site-packages, an editable install of the repository (``vocmine.models`` maps to the
repository's top-level ``models/``, see setup.py), or a Docker image. Model loaders need real
paths (safetensors and JSON readers open files by name); wheels install unzipped, so the
resources are plain files and a zipped install is refused with a clear error.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from vocmine.errors import ConfigError


def _on_disk(resource: resources.abc.Traversable, what: str) -> Path:
    if not isinstance(resource, Path):
        raise ConfigError(
            f"the shipped {what} is inside an archive ({resource}), not a folder on disk",
            hint="install vocmine unzipped (pip installs wheels that way)",
        )
    return resource


def model_dir(name: str) -> Path:
    """The folder of a shipped model: ``sentiment``, ``journey`` or ``signals``."""
    return _on_disk(resources.files("vocmine.models") / name, f"{name} model")


def signal_rules() -> Path:
    """The shipped signal rules (``vocmine/analysis/signals/signal_rules.toml``)."""
    return _on_disk(resources.files("vocmine.analysis.signals") / "signal_rules.toml", "signal rules file")

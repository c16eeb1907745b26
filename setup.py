"""Which packages the wheel holds, and where each comes from in the repository.

Metadata and dependencies live in pyproject.toml; this file exists only because the package list is
computed: the repository keeps `api/` and `models/` at its top level (the design's layout), and the
wheel installs them as `vocmine_api` (a top-level `api` would collide with anything else of that
name) and as `vocmine.models` (package data found through importlib.resources, so a non-editable
install finds the shipped models). New sub-packages are picked up without editing a list here.
"""

from setuptools import find_namespace_packages, find_packages, setup

API = "vocmine_api"
MODELS = "vocmine.models"

packages = find_packages(include=["vocmine", "vocmine.*"])
packages += [API, *(f"{API}.{name}" for name in find_packages("api"))]
# Each model's folder is a data-only package, so that every file in it ships: the weights, the card
# and the labelled samples the card cites.
model_folders = [f"{MODELS}.{name}" for name in find_namespace_packages("models", exclude=["__pycache__"])]
packages += [MODELS, *model_folders]

setup(
    packages=packages,
    package_dir={"": ".", API: "api", MODELS: "models"},
    package_data={
        "vocmine.analysis.signals": ["*.toml"],
        f"{API}.console": ["templates/*.html", "static/*"],  # the web console's pages and assets
        **{folder: ["*"] for folder in model_folders},
    },
)

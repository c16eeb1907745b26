"""Packaging: every import is declared, the locks match pyproject, and a missing extra is named instead of
shown as a traceback."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from vocmine.cli import main as cli
from vocmine.extras import ensure_installed, extras_providing, missing_extra_message, normalised_name

ROOT = Path(__file__).resolve().parents[2]


def _declared() -> set[str]:
    """Distributions vocmine declares for users: core and every extra but the dev tools."""
    names = set()
    for line in metadata.requires("vocmine") or []:
        if 'extra == "dev"' not in line:
            names.add(normalised_name(re.match(r"[A-Za-z0-9._-]+", line)[0]))  # type: ignore[index]
    return names


# The test kit for backends (the store contract suite) is pytest test classes: it needs the dev
# extra's pytest, like the tests themselves, and nothing in the product imports it.
TEST_KIT = ROOT / "vocmine" / "testing"


def _third_party_imports(folder: Path) -> dict[str, str]:
    """Top-level modules imported anywhere under ``folder`` that are neither ours nor the standard library,
    with one file that imports each."""
    found: dict[str, str] = {}
    for path in folder.rglob("*.py"):
        if TEST_KIT in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("vocmine", "vocmine_api"):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("folder", ["vocmine", "api"])
def test_every_import_of_the_package_is_declared_in_core_or_an_extra(folder):
    declared = _declared()
    distributions = metadata.packages_distributions()
    undeclared = {
        module: where
        for module, where in _third_party_imports(ROOT / folder).items()
        if not any(normalised_name(d) in declared for d in distributions.get(module, [module]))
    }
    assert not undeclared, f"imported but declared by no extra but dev (add them to pyproject.toml): {undeclared}"


def test_extras_are_read_from_the_installed_metadata():
    assert extras_providing("torch") == ["analysis"]
    assert extras_providing("sklearn.metrics") == ["analysis"]  # import name differs from the distribution's
    assert extras_providing("uvicorn") == ["api"]
    assert extras_providing("elasticsearch") == ["elastic", "api"]
    assert extras_providing("pytest") == []  # dev tools are not something a command asks users for
    assert extras_providing("numpy") == []  # core: never missing from a working install


def test_message_names_the_extra_to_install_and_unknown_modules_stay_errors():
    message = missing_extra_message(ModuleNotFoundError("No module named 'scipy.stats'", name="scipy.stats"))
    assert message is not None and "pip install 'vocmine[analysis]'" in message
    both = missing_extra_message(ModuleNotFoundError("No module named 'elasticsearch'", name="elasticsearch"))
    assert both is not None and "pip install 'vocmine[elastic]'" in both and "api extra has it too" in both
    assert missing_extra_message(ModuleNotFoundError("No module named 'left_pad'", name="left_pad")) is None


def test_the_command_reports_a_missing_extra_with_exit_status_2(monkeypatch, capsys):
    def needs_uvicorn() -> None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    monkeypatch.setattr(cli, "app", needs_uvicorn)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    assert "pip install 'vocmine[api]'" in capsys.readouterr().err


def test_a_command_can_check_its_extra_before_it_starts():
    ensure_installed("torch", "json")
    with pytest.raises(ModuleNotFoundError) as missing:
        ensure_installed("json", "left_pad")
    assert missing.value.name == "left_pad"


def test_a_missing_module_no_extra_brings_is_not_hidden(monkeypatch):
    def broken() -> None:
        raise ModuleNotFoundError("No module named 'left_pad'", name="left_pad")

    monkeypatch.setattr(cli, "app", broken)
    with pytest.raises(ModuleNotFoundError):
        cli.main()


LOCKS = {
    "requirements-core.lock": [],
    "requirements.lock": ["analysis", "api", "elastic", "scale"],
    "requirements-dev.lock": ["analysis", "api", "elastic", "scale", "dev"],
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_every_requirement_within_pyprojects_range(lock):
    """A lock that no longer satisfies pyproject.toml (a range changed, `make lock` not run) fails here."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *(r for extra in LOCKS[lock] for r in extras[extra])]
    wanted = [r for r in wanted if not r.startswith("vocmine[")]  # an extra that includes another: its own lines
    text = (ROOT / lock).read_text(encoding="utf-8")
    pinned = re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.MULTILINE)
    pins = {normalised_name(m[1]): m[2] for m in pinned}
    for requirement in map(Requirement, wanted):
        version = pins.get(normalised_name(requirement.name))
        assert version is not None, f"{lock} has no pin for {requirement}: run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), f"{lock} pins {version} for {requirement}"
    lines = text.splitlines()
    unhashed = [
        line
        for line, after in zip(lines, [*lines[1:], ""], strict=True)
        if re.match(r"[A-Za-z0-9]", line) and "--hash=sha256:" not in after
    ]
    assert not unhashed, f"{lock} pins without a hash: {unhashed}"


def test_the_cli_starts_without_the_optional_extras():
    """A core install (no analysis, api or elastic extra) runs the CLI: nothing on its import path
    may import an extra's library at module level. The wheel check proves it in a real core venv;
    this catches it before, by making those libraries unimportable in a subprocess."""
    extras = "sklearn scipy torch bertopic hdbscan umap sentence_transformers transformers safetensors fastapi uvicorn"
    blocked = sorted({*extras.split(), "elasticsearch", "huggingface_hub"})
    script = f"""
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Blocker())
sys.argv = ["vocmine", "formats"]
from vocmine.cli.main import main
main()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "chat-json" in done.stdout

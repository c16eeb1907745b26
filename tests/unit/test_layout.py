"""The package's layout holds its architecture (../shared/DESIGN.md, "Layout"): imports point one
way, down the layers; no backend imports another; nothing in the library imports the HTTP package;
and the import graph has no cycles. Imports under ``if TYPE_CHECKING:`` are annotations only and
do not count; imports inside functions do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"vocmine": ROOT / "vocmine", "vocmine_api": ROOT / "api"}


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = [package, *path.relative_to(folder).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """Our modules that ``tree`` imports (``from package import module`` names the module)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking_block(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= named & modules
            if named - modules:  # names defined in the module itself, not sub-modules of a package
                found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {
        _module_name(package, folder, path): path
        for package, folder in PACKAGES.items()
        for path in folder.rglob("*.py")
    }
    modules = set(files)
    return {
        name: _imports(ast.parse(path.read_text(encoding="utf-8")), modules) - {name} for name, path in files.items()
    }


GRAPH = import_graph()


def _arrows(source: str, target: str) -> list[str]:
    """Imports from modules under ``source`` to modules under ``target`` (dotted prefixes)."""

    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    return sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if under(m, source) for d in deps if under(d, target))


def test_the_graph_is_read_from_the_source():
    assert "vocmine.store.factory" in GRAPH["vocmine.cli.common"]
    assert "vocmine.store.sqlite.store" in GRAPH["vocmine.store.factory"]  # an import inside a function counts


def test_the_import_graph_has_no_cycles():
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        path.append(module)
        for dependency in sorted(GRAPH[module]):
            visit(dependency)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("vocmine", "vocmine_api"),  # the library never imports the HTTP package
        ("vocmine.store.sqlite", "vocmine.store.elastic"),  # no backend imports another
        ("vocmine.store.elastic", "vocmine.store.sqlite"),
        # The layers know the records, not each other; the services wire them.
        ("vocmine.ingest", "vocmine.analysis"),
        ("vocmine.ingest", "vocmine.store"),
        ("vocmine.analysis", "vocmine.ingest"),
        ("vocmine.analysis", "vocmine.store"),
        ("vocmine.store", "vocmine.ingest"),
        ("vocmine.store", "vocmine.analysis"),
        ("vocmine.store", "vocmine.insights"),
        # Nothing below the use cases reaches up to them, to the CLI or to the test kit.
        *(
            (layer, upper)
            for layer in ("vocmine.ingest", "vocmine.analysis", "vocmine.insights", "vocmine.store")
            for upper in ("vocmine.services", "vocmine.cli", "vocmine.demo", "vocmine.testing")
        ),
        ("vocmine.services", "vocmine.cli"),
        ("vocmine_api", "vocmine.cli"),
        ("vocmine_api", "vocmine.testing"),
    ],
)
def test_imports_point_down_the_layers(source, target):
    assert _arrows(source, target) == []


def test_insights_read_aggregation_results_not_stores():
    """The insight functions take what the store computed (its result types), never a store."""
    reached = {d for m, deps in GRAPH.items() if m.startswith("vocmine.insights") for d in deps}
    assert {d for d in reached if d.startswith("vocmine.store")} <= {"vocmine.store.query"}


def test_only_the_factory_opens_a_backend():
    backends = ("vocmine.store.sqlite", "vocmine.store.elastic")
    outside = [
        arrow
        for backend in backends
        for arrow in _arrows("vocmine", backend) + _arrows("vocmine_api", backend)
        if not arrow.startswith(backends) and not arrow.startswith("vocmine.store.factory ")
    ]
    assert outside == []

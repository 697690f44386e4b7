"""No import cycles among helpdesk_tui's modules, lazy (function-level) imports included.

import-linter sees only the imports Python runs at import time of a module it walks; an import
inside a function (the lazy kind screens use to push each other) hides a cycle from it. This
test builds the graph from the source with ``ast``: every ``import``/``from ... import`` anywhere
in a module (top level, function, ``if TYPE_CHECKING``) is an edge. ``from pkg import name``
points at ``pkg.name`` when that is a module, else at ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import helpdesk_tui

PACKAGE = Path(helpdesk_tui.__file__).parent

# The cycles left (each as its strongly connected component, sorted): none. A new cycle fails
# the test with its modules named.
REMAINING: list[list[str]] = []


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    root = package.name
    modules = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                # ``import a.b.c`` runs a, a.b and a.b.c: the deepest one of ours is the edge.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.split(".")[0] == root and target not in (name, root):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    """The kind that hid the screens' circle: a imports b at the top, b imports a lazily."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from . import a\n")
    (package / "c.py").write_text("import pkg.sub.a\n")
    assert cycles(import_graph(package)) == [["pkg.sub.a", "pkg.sub.b"]]


def test_no_import_cycles_beyond_the_known_ones() -> None:
    found = cycles(import_graph())
    assert found == REMAINING, "import cycles among helpdesk_tui's modules:\n" + "\n".join(
        " <-> ".join(component) for component in found
    )

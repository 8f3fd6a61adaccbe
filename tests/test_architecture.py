"""The layout keeps the design visible: layers import one way, no cycles, no giant modules.

ARCHITECTURE.md describes the layers; these checks keep the tree honest as it grows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

PACKAGE: Final = Path(__file__).resolve().parents[1] / "src" / "floorcoach"
MAX_LINES: Final = 600

LAYER_MAY_IMPORT: Final[dict[str, frozenset[str]]] = {
    "cli": frozenset({"runtime", "session", "store", "audio", "content", "foundation"}),
    "runtime": frozenset({"session", "store", "audio", "content", "foundation"}),
    "session": frozenset({"content", "foundation"}),
    "store": frozenset({"session", "content", "foundation"}),
    "audio": frozenset({"foundation"}),
    "content": frozenset({"foundation"}),
    "foundation": frozenset({"foundation"}),
}
"""cli -> runtime -> session / store / audio -> content -> foundation (commands, errors, paths).

The store may use the session's counting words and the content model; nothing below the
runtime imports it, and the audio layer knows only the shared vocabulary.
"""


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(["floorcoach", *parts]), path


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every floorcoach module this file imports when it runs, at the top or in a function.

    Imports under `if TYPE_CHECKING:` are left out: they never run. The engine's own units
    (command handlers, undo) name the `Engine` type that way, because they act on it.
    """
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text())]
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("floorcoach"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("floorcoach"))
        pending.extend(ast.iter_child_nodes(node))
    return found


MODULES: Final = dict(_modules())


def _graph() -> dict[str, set[str]]:
    return {
        name: {m for m in _imports(path) if m in MODULES} - {name} for name, path in MODULES.items()
    }


def _layer(module: str) -> str:
    """The layer: the subpackage, or 'foundation' for the top-level modules."""
    parts = module.split(".")
    if len(parts) == 1:
        return "foundation"
    if parts[1] == "__main__":
        return "cli"  # the entry point
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "foundation"


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted(m for m in MODULES if _layer(m) not in LAYER_MAY_IMPORT)
    assert unknown == [], f"add these to a layer in ARCHITECTURE.md and this test: {unknown}"


def test_layers_import_one_way() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) != _layer(module)
        and _layer(target) not in LAYER_MAY_IMPORT.get(_layer(module), frozenset())
    ]
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_600_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by job"

"""No module of vectoros_tui may import itself back, directly or through others.

The graph is read from the source with :mod:`ast`, not by importing: a cycle that only
bites in some import order (or only once a function runs) is still a cycle. Every
``import`` counts, at module level or inside a function, except those under
``if TYPE_CHECKING:``, which never run.

Only explicit imports are edges. Importing ``vectoros_tui.sync.engine`` also runs
``vectoros_tui/sync/__init__.py`` first, but that implicit edge to the parent package is not
counted: Python enters the package in ``sys.modules`` before running its ``__init__``, so a
submodule reached from it loads fine while the package is half done. What a half-done
package does break is a submodule importing a *name* from it (``from vectoros_tui.sync
import X``), and that is an explicit edge to the package, which is counted. Counting the
implicit ones would call every ``__init__`` that re-exports its submodules a cycle.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

import vectoros_tui

PACKAGE = "vectoros_tui"
ROOT = Path(vectoros_tui.__file__).parent

Graph = dict[str, set[str]]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module under ``root`` (a package is its ``__init__``)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join([package, *parts])] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in or under ``nodes`` except those only a type checker sees."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)  # the ``else:`` is what runs
        else:
            yield from _runtime_imports(ast.iter_child_nodes(node))


def _base_of(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    # A package's ``from . import x`` is relative to the package itself, a module's to
    # the package holding it.
    parts = module.split(".")
    if not is_package:
        parts.pop()
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def imports_of(module: str, path: Path, known: set[str], is_package: bool) -> set[str]:
    """The modules of ``known`` that ``module`` imports at run time."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in _runtime_imports(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
            continue
        base = _base_of(node, module, is_package)
        for alias in node.names:
            # ``from pkg import name`` loads the submodule when there is one, else reads
            # the name from the package's ``__init__``.
            submodule = f"{base}.{alias.name}"
            if submodule in known:
                found.add(submodule)
            elif base in known:
                found.add(base)
    return found


def import_graph(root: Path, package: str) -> Graph:
    files = module_names(root, package)
    known = set(files)
    return {
        name: imports_of(name, path, known, path.name == "__init__.py")
        for name, path in files.items()
    }


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module, or of one that
    imports itself; iterative, so a deep import chain cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        found.append(sorted(component))
    return sorted(found)


def shortest_cycle(graph: Graph, start: str, within: set[str]) -> list[str]:
    """The shortest import path from ``start`` back to itself inside one component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted(graph[node] & within):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")


def describe(graph: Graph, components: list[list[str]]) -> str:
    """Each component's modules, then one concrete cycle through each of them (deduplicated:
    a cycle is shown once, from its first module in sorted order)."""
    lines: list[str] = []
    for component in components:
        lines.append(f"cycle among {len(component)} modules: {', '.join(component)}")
        shown: set[tuple[str, ...]] = set()
        for module in component:
            cycle = shortest_cycle(graph, module, set(component))
            ring = cycle[:-1]
            turn = ring.index(min(ring))
            key = tuple(ring[turn:] + ring[:turn])
            if key not in shown:
                shown.add(key)
                lines.append("    " + " -> ".join([*key, key[0]]))
    return "\n".join(lines)


def test_no_import_cycles() -> None:
    graph = import_graph(ROOT, PACKAGE)
    components = strongly_connected(graph)
    assert not components, "import cycles:\n" + describe(graph, components)


# --- the checker itself ------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Graph:
    root = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return import_graph(root, "pkg")


def test_the_checker_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "a.py": "from pkg.b import thing\n",
            "b.py": "def thing():\n    from pkg import c\n",
            "c.py": "import pkg.a\n",
            "d.py": "from pkg.a import thing\n",
        },
    )
    assert strongly_connected(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    cycle = describe(graph, strongly_connected(graph)).splitlines()[1]
    assert cycle.strip() == "pkg.a -> pkg.b -> pkg.c -> pkg.a"


def test_the_checker_resolves_relative_imports(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "sub/__init__.py": "from . import x\n",
            "sub/x.py": "from ..top import name\n",
            "top.py": "from .sub.x import other\n",
        },
    )
    assert graph["pkg.sub"] == {"pkg.sub.x"}
    assert graph["pkg.sub.x"] == {"pkg.top"}
    assert strongly_connected(graph) == [["pkg.sub.x", "pkg.top"]]


def test_the_checker_skips_type_checking_imports_and_implicit_parents(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "__init__.py": "from pkg.a import A\n",
            "a.py": (
                "import typing\n"
                "if typing.TYPE_CHECKING:\n"
                "    from pkg.b import B\n"
                "else:\n"
                "    import pkg.c\n"
                "A = 1\n"
            ),
            "b.py": "from pkg.a import A\n",
            "c.py": "",
        },
    )
    # pkg.a runs pkg/__init__.py first, which imports pkg.a: not counted (see the top).
    assert graph["pkg.a"] == {"pkg.c"}
    assert strongly_connected(graph) == []


def test_the_checker_sees_a_name_read_from_a_package(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {"__init__.py": "from pkg.a import A\nB = 2\n", "a.py": "from pkg import B\nA = 1\n"},
    )
    assert strongly_connected(graph) == [["pkg", "pkg.a"]]

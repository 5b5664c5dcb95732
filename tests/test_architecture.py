"""The picture in docs/architecture.md stays true: among etl/ modules no import cycle and no
import from a lower layer to a higher one, counting imports inside functions too (read from the
source, nothing imported)."""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

ETL = Path(__file__).resolve().parents[1] / "etl"

# bottom to top, as docs/architecture.md states them; a module may import its own layer and below
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "etl",
            "etl.records",
            "etl.config",
            "etl.redact",
            "etl.metrics",
            "etl.progress",
            "etl.links",
            "etl.http",
            "etl.grades",
            "etl.landing",
            "etl.reference",
        ),
    ),
    ("warehouse", ("etl.warehouse",)),
    ("model", ("etl.graded", "etl.councils")),
    (
        "stages",
        (
            "etl.crawl",
            "etl.download",
            "etl.parse",
            "etl.parse.*",
            "etl.load",
            "etl.review",
            "etl.search",
            "etl.search_text",
            "etl.search_index",
            "etl.changes",
            "etl.england",
            "etl.derived",
            "etl.checks",
            "etl.freshness",
            "etl.export",
            "etl.query",
            "etl.outcomes",
            "etl.due",
            "etl.alert",
            "etl.alert.*",
        ),
    ),
    ("pipeline", ("etl.pipeline",)),
    ("web", ("etl.web", "etl.web.*")),
    ("cli", ("etl.cli", "etl.cli.*")),
)

# Imports known to break the picture, each with the change that removes it. An entry whose import
# is gone fails the test: delete it then (the list only shrinks).
KNOWN: dict[tuple[str, str], str] = {}


def modules() -> dict[str, Path]:
    out = {}
    for path in ETL.rglob("*.py"):
        parts = path.relative_to(ETL.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The etl modules `name` imports anywhere in its source (a `from X import y` of a submodule
    y counts as X.y; of a function, as X)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {_owner(a.name, known) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else _owner(base, known) for a in node.names}
    return {m for m in found if m and m != name}


def _owner(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def layer_of(name: str) -> int:
    for i, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch(name, p) for p in patterns):
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS and to docs/architecture.md")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_module_is_in_a_layer():
    for name in modules():
        layer_of(name)


def test_no_import_cycle_among_etl_modules():
    edges = {a: {b for b in bs if (a, b) not in KNOWN} for a, bs in graph().items()}
    assert cycles(edges) == []


def test_no_module_imports_a_higher_layer():
    upward = sorted(
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
        for a, bs in graph().items()
        for b in bs
        if layer_of(b) > layer_of(a) and (a, b) not in KNOWN
    )
    assert upward == []


def test_each_known_exception_still_exists_and_breaks_the_picture():
    edges = graph()
    gone = [f"{a} -> {b}" for a, b in KNOWN if b not in edges.get(a, ())]
    assert gone == [], "fixed: delete these from KNOWN"
    harmless = [f"{a} -> {b}" for a, b in KNOWN if layer_of(b) <= layer_of(a) and a not in reachable(edges, b)]
    assert harmless == [], "neither upward nor in a cycle: no exception needed"


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_checker_sees_imports_inside_functions_and_cycles(tmp_path):
    """The test's own reading: an import inside a function counts, and a cycle is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from etl.changes import refresh\n    from etl import derived, graded\n")
    known = set(modules())
    assert imports("etl.x", module, known) == {"etl.changes", "etl.derived", "etl.graded"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

"""The house rules the code itself must keep: no import cycle at module level inside evalkit."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "evalkit"


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(mod: str) -> bool:
    return (PKG.parent / mod.replace(".", "/") / "__init__.py").exists()


def _resolve(mod: str, level: int, name: str | None, is_pkg: bool) -> str:
    if level == 0:
        return name or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict[str, set[str]]:
    """Module -> the evalkit modules it imports when it is imported (top-level statements only: imports
    inside functions and under `if TYPE_CHECKING:` run later or never)."""
    modules = {_module(p): p for p in PKG.rglob("*.py") if "_builtin" not in p.parts}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, node.level, node.module, is_pkg)
                # `from . import x` may name a submodule
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:  # evalkit.foo.bar where bar is an attribute
                    t = t.rpartition(".")[0]
                if t.startswith("evalkit") and t != mod:
                    deps.add(t)
                    # importing a.b.c imports the packages a and a.b first
                    parent = t.rpartition(".")[0]
                    while parent:
                        if parent != mod and not mod.startswith(parent + "."):
                            deps.add(parent)
                        parent = parent.rpartition(".")[0]
        graph[mod] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (c := visit(d)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_evalkit():
    graph = import_graph()
    assert "evalkit.runner" in graph and "evalkit.kind" in graph["evalkit.kinds.mcq"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)

"""The package reads as the pipeline: no import cycles, and no stage imports a later one.

Every `import` in storyc (module level and inside functions, since a lazy import is still a
dependency) is read from the source with `ast`, so a cycle hidden behind a function-level
import is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "storyc"

# Each package and what it may import besides itself and the shared modules.
SHARED = {
    "errors",
    "terminal",
    "units",
    "fsutil",
    "resources",
    "probe",
    "sandbox",
    "unchecked",
    "storyc",
}
ALLOWED: dict[str, set[str]] = {
    "language": {"check"},  # syntax diagnostics are made from the catalog
    "check": {"language", "plan"},  # provider rules read the planner's drafts
    "plan": {"language", "check"},
    "frontend": {"language", "check", "plan"},
    "providers": {"plan"},
    "assemble": {"plan"},
    "board": {"language", "check", "plan", "frontend", "providers", "pipeline"},
    "pipeline": {"plan", "providers", "assemble"},
    "tooling": {"language", "check", "plan", "frontend"},
    # `python -m storyc` is the command line (`storyc lsp` alone goes straight to the server)
    "__main__": {"cli", "tooling"},
    "cli": {
        "language",
        "check",
        "plan",
        "frontend",
        "providers",
        "assemble",
        "board",
        "pipeline",
        "tooling",
    },
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storyc"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("storyc")}
    return {name for name in out if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


PURE_REQUEST_BUILDERS = "storyc.providers.requests"
"""The providers' request builders (pure, no HTTP client): the planner writes their output
into plan.json, so plan.json is exactly what is sent."""


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_stage_imports_a_later_one() -> None:
    wrong = []
    for module, imported in _graph().items():
        area = _area(module)
        # The shared modules sit under every stage: they import only each other.
        allowed = SHARED if area in SHARED else SHARED | ALLOWED.get(area, set()) | {area}
        wrong += [
            f"{module} -> {target}"
            for target in imported
            if _area(target) not in allowed and target != PURE_REQUEST_BUILDERS
        ]
    assert not wrong, "imports against the flow: " + ", ".join(sorted(wrong))


def test_the_check_finds_a_cycle_when_there_is_one(tmp_path: Path) -> None:
    # The walker itself must be able to fail: two modules that import each other.
    (tmp_path / "a.py").write_text("import storyc.b\n")
    (tmp_path / "b.py").write_text("from storyc import a\n")
    modules = {"storyc.a": tmp_path / "a.py", "storyc.b": tmp_path / "b.py"}
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert graph == {"storyc.a": {"storyc.b"}, "storyc.b": {"storyc.a"}}
    assert _cycles(graph) == [["storyc.a", "storyc.b", "storyc.a"]]

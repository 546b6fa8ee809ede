"""The layout holds: layers only import downwards, no module imports itself back through others,
and no module outgrows what a reader can hold (400 lines)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from needs import missing

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "training", "retrieval")
MAX_LINES = 400


def test_layers_import_only_downwards():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        missing("import-linter is not installed (pip install -e '.[test]')")
    run = subprocess.run([lint, "--no-cache", "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def import_cycles(graph, modules) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over every import, including
    those inside functions."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles():
    try:
        import grimp  # import-linter's own graph builder
    except ImportError:
        missing("grimp is not installed (pip install -e '.[test]' brings it with import-linter)")
    graph = grimp.build_graph(*PACKAGES)
    assert import_cycles(graph, graph.modules) == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges.get(module, set())

    assert import_cycles(Graph(), ["a", "b", "c", "d"]) == [["a", "b", "c"]]


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(REPO)): n for package in PACKAGES for p in (REPO / package).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}

"""The layering of DESIGN.md, checked by walking every import of the project's modules."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("moderation", "training", "toxiscope")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Everything `name` imports, anywhere in the file (function bodies included), as the
    imported module itself or the package that holds an imported name."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""]).strip(".")
            module = base if node.level else node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph = defaultdict(set)
    for name, path in modules.items():
        for imported in _imports(name, path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                graph[name].add(imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = _graph(MODULES)


def test_the_walker_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from moderation import tasks\n")
    assert "moderation.tasks" in _imports("moderation.services.late", module)


def test_no_import_cycle_among_the_project_modules():
    assert cycles(GRAPH) == []


def _importers_of(prefix: str, among: str) -> list[str]:
    return sorted(
        name
        for name, imported in GRAPH.items()
        if name.startswith(among) and any(target == prefix or target.startswith(f"{prefix}.") for target in imported)
    )


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("moderation.services", "moderation.tasks"),  # work is sent through moderation.jobs
        ("moderation.engine", "moderation.services"),  # the engine only reads
        ("moderation.engine", "moderation.selectors"),
        ("moderation.engine", "moderation.jobs"),
        ("moderation.selectors", "moderation.services"),  # reads never write
        ("moderation.selectors", "moderation.jobs"),
        ("moderation.jobs", "moderation"),  # sends by name: nothing of ours but the Celery app
        ("training", "moderation"),
        ("training", "django"),
    ],
)
def test_layers_import_only_downwards(layer, forbidden):
    if forbidden == "django":  # not one of our modules: look at the raw imports
        offenders = [
            name
            for name, path in MODULES.items()
            if name.startswith(layer) and any(i.split(".")[0] == "django" for i in _imports(name, path))
        ]
    else:
        offenders = _importers_of(forbidden, layer)
    assert offenders == []


def test_only_jobs_sends_celery_tasks():
    senders = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"delay", "apply_async", "send_task"}:
                senders.append(name)
    assert sorted(set(senders)) == ["moderation.jobs"]

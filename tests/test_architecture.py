"""The layering of DESIGN.md, checked by walking every import of the project's modules."""

import ast
from collections import defaultdict
from pathlib import Path

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


# The layer table: the one statement of who may import whom. A module belongs to the layer of
# its longest matching prefix; it may import its own layer and those listed, nothing else of
# ours. docs/architecture.md's "Layout" table is generated from it (test_the_docs_show_the_layer_table).
# Arrows point down: a layer lists only layers further down this table.
LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "toxiscope.urls": ("the root URLs: where every front end is mounted", ("moderation",)),
    "toxiscope.wsgi": ("the WSGI entry point", ()),
    "moderation.admin": (
        "the Django admin; every write it offers calls a service",
        (
            "moderation.services",
            "moderation.messages",
            "moderation.models",
        ),
    ),
    "moderation.management": (
        "`manage.py` commands (`train`, `recalibrate`, `import_comments`, …)",
        (
            "moderation.services",
            "moderation.selectors",
            "moderation.engine",
            "moderation.exporting",
            "moderation.importing",
            "moderation.messages",
            "moderation.roles",
            "moderation.storage",
            "moderation.models",
            "training",
        ),
    ),
    "moderation.web": (
        "the moderators' workspace and the admins' model pages: views, access rules, forms (built from "
        "`training.config`), plots (from `training`'s validation-split figures), the import upload (through "
        "`importing`'s readers), templates, htmx, the keys",
        (
            "moderation.services",
            "moderation.selectors",
            "moderation.exporting",
            "moderation.importing",
            "moderation.messages",
            "moderation.roles",
            "moderation.text",
            "moderation.models",
            "training",
        ),
    ),
    "moderation.http": (
        "request framing the WSGI stack cannot read (chunked bodies), the content security policy's reach",
        ("moderation.api.errors",),
    ),
    "moderation.apps": (
        "the app config: registers the schema extensions and the post-migrate service",
        (
            "moderation.api",
            "moderation.services",
        ),
    ),
    "moderation.api": (
        "DRF views and serializers (model serializers read `models`), API-key authentication, the "
        "Perspective-compatible endpoint",
        (
            "moderation.services",
            "moderation.selectors",
            "moderation.engine",
            "moderation.roles",
            "moderation.text",
            "moderation.models",
        ),
    ),
    "moderation.tasks": ("Celery tasks: ids in, one service call", ("moderation.services", "moderation.jobs")),
    "moderation.services": (
        "every write, `<entity>_<action>(*, kw)`: submit, triage, import, train, recalibrate, promote, "
        "routing rules, records, API keys, review, webhooks, audit",
        (
            "moderation.selectors",
            "moderation.engine",
            "moderation.jobs",
            "moderation.metrics",
            "moderation.importing",
            "moderation.roles",
            "moderation.text",
            "moderation.storage",
            "moderation.models",
            "moderation.webhook_urls",
            "training",
        ),
    ),
    "moderation.metrics": (
        "`/metrics`: request, scoring and routing counters; queue gauges read at scrape time",
        ("moderation.selectors", "moderation.models"),
    ),
    "moderation.exporting": (
        "the labelled-data export, for the command and the download alike",
        ("moderation.selectors", "moderation.importing", "moderation.models"),
    ),
    "moderation.selectors": (
        "every non-trivial read: training data, the workspace's queues and history, the model pages' "
        "comparisons (with `training`'s evaluation)",
        ("moderation.engine", "moderation.roles", "moderation.storage", "moderation.models", "training"),
    ),
    "moderation.health": ("`/healthz` and `/readyz`", ("moderation.engine", "moderation.models", "toxiscope")),
    "moderation.engine": (
        "read-only: the active model and other loaded versions, the routing configuration (loaders never "
        "write), the pure rule engine, `comments_analyze` = score + decide",
        ("moderation.storage", "moderation.models", "moderation.text", "training"),
    ),
    "moderation.storage": (
        "the artifact store: every version's files in the database (chunked blobs by SHA-256), "
        "materialised into each host's cache; the interface another store implements",
        ("moderation.models", "training"),
    ),
    "moderation.jobs": ("the one place that sends Celery tasks: after commit, by registered name", ("toxiscope",)),
    "moderation.importing": (
        "streaming CSV/JSONL readers for `import_comments`, and any CSV/TSV/JSONL through a column mapping",
        ("moderation.text",),
    ),
    "moderation.templatetags": ("template filters (the choices' labels from `models`)", ("moderation.models",)),
    "moderation.models": (
        "the tables and their database constraints",
        ("moderation.webhook_urls", "moderation.text"),
    ),
    "moderation.webhook_urls": ("which URLs a webhook may reach, and a connection pinned to the checked address", ()),
    "moderation.roles": ("the role (group) names", ()),
    "moderation.messages": ("validation messages shared by the CLI and the web", ()),
    "moderation.text": ("text rules shared by every way in: blank text, language codes, a comment's sentences", ()),
    "moderation": ("the app's package", ()),
    "toxiscope": (
        "settings from the environment, the Celery app, gunicorn's settings and access log, SQLite's pool",
        (),
    ),
    "training": ("the classifier, pure Python + torch: never Django", ()),
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        if ".".join(parts[:size]) in LAYERS:
            return ".".join(parts[:size])
    raise KeyError(f"{module} is in no layer of LAYERS")


def _allowed(source: str, target: str) -> bool:
    layer = layer_of(source)
    if layer_of(target) == layer or target in ("moderation", "toxiscope"):  # a package's own __init__
        return True
    return any(target == allowed or target.startswith(f"{allowed}.") for allowed in LAYERS[layer][1])


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if not _allowed(source, target)
    )


def test_the_layer_walker_finds_an_import_the_table_does_not_allow():
    assert layer_violations({"moderation.services.x": {"moderation.tasks"}}) == [
        "moderation.services.x imports moderation.tasks"
    ]
    assert layer_violations({"moderation.engine.scoring": {"moderation.selectors.queues"}}) != []
    assert layer_violations({"moderation.web.views": {"moderation.services.review"}}) == []


def test_every_module_is_in_a_layer_and_imports_only_what_its_layer_may():
    for name in MODULES:
        layer_of(name)
    assert layer_violations(GRAPH) == []


def test_layers_point_down_the_table():
    order = list(LAYERS)
    upward = [
        f"{layer} -> {allowed}"
        for layer, (_, allowed_layers) in LAYERS.items()
        for allowed in allowed_layers
        if order.index(layer_of(allowed)) <= order.index(layer)
    ]
    assert upward == []


def test_training_imports_no_django():
    offenders = [
        name
        for name, path in MODULES.items()
        if name.startswith("training") and any(i.split(".")[0] == "django" for i in _imports(name, path))
    ]
    assert offenders == []


def layer_table() -> str:
    rows = ["| module | what | may import |", "|---|---|---|"]
    for layer, (what, allowed) in LAYERS.items():
        rows.append(f"| `{layer}` | {what} | {', '.join(f'`{a}`' for a in allowed) or '—'} |")
    return "\n".join(rows)


def test_the_docs_show_the_layer_table():
    """docs/architecture.md holds the table between its markers; `python -m tests.test_architecture`
    prints it afresh."""
    readme = (ROOT / "docs" / "architecture.md").read_text()
    shown = readme.split("<!-- layers -->\n", 1)[-1].split("\n<!-- /layers -->", 1)[0]
    assert shown == layer_table(), "docs/architecture.md's layer table is stale: python -m tests.test_architecture"


def test_only_jobs_sends_celery_tasks():
    senders = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"delay", "apply_async", "send_task"}:
                senders.append(name)
    assert sorted(set(senders)) == ["moderation.jobs"]


if __name__ == "__main__":
    print(layer_table())

"""The package's layout holds: imports go one way, from a stage to the stages before it.

The package map in `mtlab/__init__.py` lists the stages in order; this test reads every
module's imports (type-only ones included) and fails on an import cycle, on a stage that
imports a later one, and on the size rules (entries at the top, lines per module, lines per
function) that keep each file readable in one sitting.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "mtlab"
# stage -> rank: a module may import modules of its own stage or of a lower rank
RANKS = {
    "guard": 0,
    "tasks": 0,
    "artifacts": 0,
    "data": 1,
    "batching": 2,
    "runtime": 3,
    "encoder": 4,
    "feature_cache": 4,
    "tokenizer_checks": 4,
    "heads": 5,
    "model": 6,
    "evaluation": 7,
    "extensions": 7,
    "training": 8,
    "debugging": 9,
    "experiment": 10,
    "exercises": 11,
    "__main__": 11,
    "__init__": 12,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# The exercises' guard, their registry of mistakes and their hints import nothing else of mtlab,
# so that check_head (debugging) judges a student's head with them; the checks come last.
GUARD = {"mtlab.exercises", "mtlab.exercises.mistakes", "mtlab.exercises.hints"}


def stage(module: str) -> str:
    if module in GUARD:
        return "guard"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> set[str]:
    """The mtlab modules a file imports, wherever the import statement stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mtlab"):
            if node.module != "mtlab":  # from mtlab import tasks: the module tasks, not mtlab
                found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("mtlab")}
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {m for m in imports(path) if m in MODULES} - {name} for name, path in MODULES.items()
}


def test_every_stage_has_a_rank():
    assert {stage(m) for m in MODULES} <= set(RANKS), set(map(stage, MODULES)) - set(RANKS)


def test_no_stage_imports_a_later_one():
    upward = [
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if RANKS[stage(target)] > RANKS[stage(name)] and stage(name) != "__init__"
    ]
    assert not upward, upward


def test_no_import_cycle():
    seen, path = set(), []

    def visit(name: str) -> None:
        if name in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in seen:
            return
        path.append(name)
        for target in sorted(GRAPH[name]):
            visit(target)
        path.pop()
        seen.add(name)

    for name in sorted(MODULES):
        visit(name)


def test_the_top_of_the_package_has_at_most_fifteen_entries():
    entries = {
        p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    entries -= {"__init__", "__main__", "exercises"}
    assert len(entries) <= 15, sorted(entries)


def test_modules_and_functions_fit_one_sitting():
    long_modules = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert max(long_modules.values()) <= 400, max(long_modules.items(), key=lambda kv: kv[1])
    long_functions = [
        f"{name}.{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for name, path in MODULES.items()
        if stage(name) != "exercises"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long_functions, long_functions


def test_the_formatter_formats():
    skips = sum(p.read_text().count("# fmt: skip") for p in MODULES.values())
    assert skips <= 20, skips

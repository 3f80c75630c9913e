"""Dependency direction (DESIGN.md): objectives never imports decisions, beyond the audit recorder and role checks.

Read from the source with `ast`, so an import inside a function or behind TYPE_CHECKING counts too.
What a policy change must set off in decisions goes through objectives.signals.policy_changed instead.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ("decisions.audit", "decisions.access")


def imported_names(source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) for every absolute import; `from a.b import c` gives a.b.c (c may be a module)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def is_allowed(name: str) -> bool:
    if name != "decisions" and not name.startswith("decisions."):
        return True
    return any(name == allowed or name.startswith(f"{allowed}.") for allowed in ALLOWED)


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    return [(line, name) for line, name in imported_names(source) if not is_allowed(name)]


def test_objectives_imports_from_decisions_only_the_audit_recorder_and_role_checks():
    modules = sorted((ROOT / "objectives").rglob("*.py"))
    assert len(modules) > 10  # the walk found the app, so an empty result below means something
    found = [
        f"{module.relative_to(ROOT)}:{line}: {name}"
        for module in modules
        for line, name in forbidden_imports(module.read_text(encoding="utf-8"))
    ]
    assert found == [], "objectives may import only decisions.audit and decisions.access:\n" + "\n".join(found)


def test_the_check_catches_every_way_of_reaching_into_decisions():
    source = "\n".join(
        [
            "from decisions.review import backtest",
            "from decisions import audit, models",
            "import decisions.generation.tasks",
            "from decisions.models import GenerationRun",
            "import decisions",
            "def late():",
            "    from decisions.review.tasks import refresh_pending_verdicts",
        ]
    )
    assert forbidden_imports(source) == [
        (1, "decisions.review.backtest"),
        (2, "decisions.models"),
        (3, "decisions.generation.tasks"),
        (4, "decisions.models.GenerationRun"),
        (5, "decisions"),
        (7, "decisions.review.tasks.refresh_pending_verdicts"),
    ]


def test_the_audit_recorder_and_role_checks_stay_allowed():
    source = "\n".join(
        [
            "from decisions import audit, access",
            "from decisions.audit import events as audit_events",
            "import decisions.access",
            "from decisions.accessories import x",  # a lookalike name is not the access module
            "from objectives import signals",
        ]
    )
    assert forbidden_imports(source) == [(4, "decisions.accessories.x")]

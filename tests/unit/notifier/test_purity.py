"""The rules stay pure (style: domain modules import only the standard library, pydantic,
`events` and `programme`), checked here because import-linter contracts cover packages,
not single modules of a service."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

NOTIFIER = Path(__file__).resolve().parents[3] / "services" / "notifier"
PURE_MODULES = ["rules.py", "subscriptions.py", "digest.py"]
ALLOWED = {"pydantic", "events", "programme", "services"}
ALLOWED_OWN = {"services.notifier.rules", "services.notifier.subscriptions"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE_MODULES)
def test_alert_rules_import_no_adapters(module: str) -> None:
    for name in imported(NOTIFIER / module):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        assert top in ALLOWED, f"{module} imports {name}"
        if top == "services":
            assert name in ALLOWED_OWN, f"{module} imports {name}"
        if top == "programme":
            assert name in {"programme.rag", "programme.scheme"}, f"{module} imports {name}"

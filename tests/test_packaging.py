"""Packaging: only `lumos` is installed; `data` and `eval` stay repository-root command shims."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from tiny_models import REPO_ROOT


def test_only_lumos_is_installed():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    cfg = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert cfg["tool"]["setuptools"]["packages"]["find"]["include"] == ["lumos*"]


def test_the_package_never_imports_the_shims():
    offenders = []
    for path in sorted((REPO_ROOT / "lumos").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{Path(path).relative_to(REPO_ROOT)}: {n}" for n in names if n.split(".")[0] in ("data", "eval")]
    assert offenders == []

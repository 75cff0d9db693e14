"""The import layers of DESIGN.md hold: no package imports a higher or sideways one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "shipit"

# package -> shipit packages it may import (besides the leaves errors and _types): DESIGN.md.
ALLOWED: dict[str, set[str]] = {
    "spec": set(),
    "stats": set(),
    "assign": {"spec"},
    "registry": {"spec"},
    "store": {"spec"},
    "metrics": {"spec", "store", "stats"},
    "bandits": {"spec", "stats"},
    "result": {"spec"},
    "decide": {"spec", "stats", "result"},
    "report": {"spec", "result"},
    "sim": {"spec", "assign", "store", "stats", "bandits"},
    "analysis": {
        "spec",
        "stats",
        "assign",
        "registry",
        "store",
        "metrics",
        "bandits",
        "result",
        "decide",
        "report",
    },
    "operate": {
        "spec",
        "stats",
        "assign",
        "registry",
        "store",
        "metrics",
        "bandits",
        "result",
        "decide",
        "report",
        "analysis",
    },
    "sdk": {"spec", "assign"},
    "server": {"*"},
    "cli": {"*"},
}
# _lazy: the packages' load-on-first-use helper; like the others it imports nothing of shipit.
LEAVES = {"errors", "_types", "_lazy"}

# Third-party packages confined to the shipit packages named.
CONFINED: dict[str, set[str]] = {
    "scipy": {"stats"},
    "statsmodels": {"stats"},
    "duckdb": {"store", "metrics", "sim", "analysis", "server", "cli"},
    "ibis": {"store", "metrics"},
    "sqlalchemy": {"registry"},
    "alembic": {"registry"},
    "fastapi": {"server"},
    "starlette": {"server"},
    "typer": {"cli"},
    "httpx": {"sdk"},
    "pandas": {"store", "metrics", "report", "sim", "analysis"},
}


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_layers_hold(path: Path) -> None:
    package = _package_of(path)
    if package in LEAVES | {"__init__", "__main__"}:
        allowed: set[str] = {"*"} if package in {"__init__", "__main__"} else set()
    else:
        allowed = ALLOWED.get(package, set())
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "shipit" or len(parts) == 1:
            continue
        target = parts[1]
        if target in LEAVES or target == package or "*" in allowed:
            continue
        dotted = ".".join(parts[1:3])
        assert target in allowed or dotted in allowed, (
            f"{path.relative_to(SRC)} imports {name}: {package} may import only "
            f"{sorted(allowed) or 'nothing of shipit'}"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_third_party_confinement(path: Path) -> None:
    package = _package_of(path)
    for name in _imports(path):
        top = name.split(".")[0]
        if top in CONFINED:
            assert package in CONFINED[top], (
                f"{path.relative_to(SRC)} imports {top}, which belongs in "
                f"{sorted(CONFINED[top])} only"
            )


def test_a_violation_is_caught(tmp_path: Path) -> None:
    """The checker itself sees an upward import (so the test above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from shipit.analysis import analyze\nimport shipit.cli.main\n")
    assert _imports(bad) == ["shipit.analysis", "shipit.cli.main"]


def test_the_architecture_page_draws_the_same_table() -> None:
    """docs/architecture.md's "may import" column says what ALLOWED enforces."""
    page = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn: dict[str, set[str]] = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        package, may = cells[0].strip("`"), cells[2]
        if may.startswith("nothing"):
            drawn[package] = set()
        elif may.startswith("all of the above but "):
            # the rows drawn above this one, less the packages named after "but"
            but = {p.strip() for p in may.removeprefix("all of the above but ").split(",")}
            drawn[package] = set(drawn) - but
        elif may == "everything":
            drawn[package] = {"*"}
        else:
            drawn[package] = {p.strip() for p in may.split(",")}
    assert drawn == ALLOWED

"""The CLI starts without the heavy libraries: commands import them only when they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from shipit.cli.main import app

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = {
    "scipy",
    "pandas",
    "duckdb",
    "pyarrow",
    "statsmodels",
    "plotly",
    "fastapi",
    "sqlalchemy",
    "ibis",
    "numpy",
}
REPORT = (
    "import json, sys; "
    f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r})))"
)


def _heavy_loaded(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter on this tree's sources; the heavy modules it loaded."""
    path = [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of the app (groups have ``commands``), as argument paths."""
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths.extend(_paths(sub, (*prefix, name)))
    return paths


def test_import_shipit_skips_heavy_modules() -> None:
    assert _heavy_loaded("import shipit") == []


def test_cli_registration_skips_heavy_modules() -> None:
    assert _heavy_loaded("import shipit.cli.main") == []


def test_root_help_skips_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from shipit.cli.main import main\n"
        "sys.argv = ['shipit', '--help']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
    )
    assert _heavy_loaded(code) == []


def test_lazy_public_names_still_resolve() -> None:
    import shipit
    from shipit.registry import SqlAlchemyRepository
    from shipit.stats.moments import Moments

    assert shipit.Moments is Moments
    assert SqlAlchemyRepository.__name__ == "SqlAlchemyRepository"
    with pytest.raises(AttributeError):
        _ = shipit.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path", _paths(typer.main.get_command(app)), ids=lambda p: " ".join(p) or "shipit"
)
def test_every_command_help_works(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output

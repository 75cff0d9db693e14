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


def _loaded(code: str, roots: set[str]) -> list[str]:
    """Run ``code`` in a fresh interpreter on this tree's sources; the modules it loaded that
    are one of ``roots`` or inside one."""
    report = (
        "import json, sys; print(json.dumps(sorted(m for m in sys.modules "
        f"if any(m == r or m.startswith(r + '.') for r in {sorted(roots)!r}))))"
    )
    path = [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _heavy_loaded(code: str) -> list[str]:
    """The heavy third-party packages (top level) that ``code`` loaded."""
    return sorted({m.split(".")[0] for m in _loaded(code, HEAVY)})


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


def _run_main(*argvs: list[str]) -> str:
    """Code that runs the CLI's ``main`` once per argv in one interpreter, output discarded."""
    return (
        "import contextlib, io, sys\n"
        "from shipit.cli.main import main\n"
        f"for argv in {[list(a) for a in argvs]!r}:\n"
        "    sys.argv = ['shipit', *argv]\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n            main()\n"
        "        except SystemExit as exc:\n            assert exc.code == 0, (argv, exc.code)\n"
    )


def test_every_command_help_skips_heavy_modules() -> None:
    paths = _paths(typer.main.get_command(app))
    assert _heavy_loaded(_run_main(*[[*p, "--help"] for p in paths])) == []


def test_power_runs_without_scipy_or_the_analysis_stack() -> None:
    plan = ["power", "--kind", "proportion", "--baseline", "0.1", "--mde", "0.01"]
    at_n = ["power", "--kind", "mean", "--sd", "12", "--n", "5000", "--mde", "0.8"]
    assert _heavy_loaded(_run_main(plan, [*at_n, "--format", "json"])) == ["numpy"]


def test_stats_table_skips_the_analysis_report_and_engines() -> None:
    """``shipit stats`` runs the shared analysis core (``shipit.analysis.given``) but none
    of the store-backed pipeline, the metric engine queries or the report stack."""
    example = str(SRC.parent / "examples" / "stats_cuped.json")
    unneeded = {"plotly", "pandas", "duckdb", "pyarrow", "sqlalchemy", "ibis", "fastapi"}
    unneeded |= {"shipit.decide", "shipit.report.html", "shipit.metrics", "shipit.store"}
    unneeded |= {"shipit.analysis.pipeline", "shipit.analysis.registered"}
    for output in ("table", "json"):
        assert _loaded(_run_main(["stats", example, "--format", output]), unneeded) == []


@pytest.mark.parametrize(
    "path", _paths(typer.main.get_command(app)), ids=lambda p: " ".join(p) or "shipit"
)
def test_help_shows_no_type_after_flags(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output


def test_flags_still_take_no_value() -> None:
    args = ["power", "--kind", "mean", "--sd", "12", "--baseline", "40", "--mde", "0.02"]
    result = CliRunner().invoke(app, [*args, "--relative", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["mde_absolute"] == pytest.approx(0.8)


def test_lazy_report_names_survive_submodule_imports() -> None:
    # Rendering imports shipit.report.summaries (a module named like a public function).
    code = (
        "import shipit.report.markdown\n"
        "from shipit.report import summaries, summary, render_html\n"
        "from shipit.report.summaries import summaries as direct\n"
        "assert callable(summaries) and summaries is direct, summaries\n"
        "import shipit.report as r\n"
        "assert sorted(r.__all__) == r.__all__\n"
        "assert all(callable(getattr(r, n)) for n in r.__all__)\n"
    )
    _loaded(code, set())

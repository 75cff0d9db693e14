"""``shipit demo`` and ``shipit analyze`` in process, and their errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.errors import NotFoundError

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    args = ["demo", "--scenario", "ecommerce", "--users", "3000", "--out", str(out)]
    result = runner.invoke(app, [*args, "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "ecommerce · verdict" in result.output
    return out


def test_demo_writes_store_registry_and_reports(demo_dir: Path) -> None:
    assert (demo_dir / "store.duckdb").is_file()
    assert (demo_dir / "registry.db").is_file()
    html = (demo_dir / "report.html").read_text()
    assert "chart-" in html or "plotly" in html.lower()
    data = json.loads((demo_dir / "analysis.json").read_text())
    assert data["experiment"] == "ecommerce"
    assert data["verdict"]["decision"] in {"halt", "roll_back", "ship", "iterate", "kill"}


def test_analyze_registered_key_in_every_format(demo_dir: Path, tmp_path: Path) -> None:
    store = str(demo_dir / "store.duckdb")
    url = f"sqlite:///{demo_dir / 'registry.db'}"
    base = ["analyze", "ecommerce", "--store", store, "--database-url", url]
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert "Traffic lights" in table.output
    as_json = runner.invoke(app, [*base, "--format", "json"])
    assert json.loads(as_json.output)["units"]
    for fmt, marker in (("html", "<html"), ("md", "# ecommerce")):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(app, [*base, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert marker in out.read_text()
    # The JSON the demo wrote is the analysis of the same phase.
    demo = json.loads((demo_dir / "analysis.json").read_text())
    assert json.loads(as_json.output)["units"] == demo["units"]


def test_analyze_spec_file(demo_dir: Path, tmp_path: Path) -> None:
    from shipit.sim import scenario
    from shipit.sim.storage import experiment_for

    spec = tmp_path / "ecommerce.yaml"
    spec.write_text(yaml.safe_dump(experiment_for(scenario("ecommerce").info()).to_dict()))
    result = runner.invoke(
        app, ["analyze", str(spec), "--store", str(demo_dir / "store.duckdb"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["primary"] == "ctr"


def test_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--scenario", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_missing_store_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "ecommerce", "--store", str(tmp_path / "none.duckdb")])
    assert isinstance(result.exception, NotFoundError)
    assert "none.duckdb" in str(result.exception)


def test_missing_spec_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "missing.yaml")])
    assert isinstance(result.exception, NotFoundError)
    assert "missing.yaml" in str(result.exception)


def test_unknown_experiment_is_named(demo_dir: Path) -> None:
    url = f"sqlite:///{demo_dir / 'registry.db'}"
    result = runner.invoke(
        app,
        ["analyze", "no-such", "--store", str(demo_dir / "store.duckdb"), "--database-url", url],
    )
    assert isinstance(result.exception, NotFoundError)
    assert "no-such" in str(result.exception)


def test_too_few_users_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--users", "10", "--out", str(tmp_path)])
    assert result.exception is not None
    assert "--users" in str(result.exception)

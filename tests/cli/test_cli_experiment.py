"""``shipit experiment ...`` against the registry, in-process."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.errors import ConflictError, StateError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def test_lifecycle_through_the_cli() -> None:
    spec = str(EXAMPLES / "checkout_button.yaml")
    result = runner.invoke(app, ["experiment", "create", spec, "--actor", "ana"])
    assert result.exit_code == 0, result.output
    assert result.output == "created checkout-button-color: draft\n"
    key = "checkout-button-color"
    assert runner.invoke(app, ["experiment", "start", key]).output.endswith("phase 1\n")
    listed = runner.invoke(app, ["experiment", "list"]).output
    assert key in listed
    assert "running" in listed
    shown = runner.invoke(app, ["experiment", "show", key]).output
    assert shown.startswith(f"# {key}: running, phase 1\n# phase 1: ")
    assert "metrics_files:\n- metrics.yaml" in shown
    assert runner.invoke(app, ["experiment", "stop", key]).exit_code == 0
    decided = runner.invoke(app, ["experiment", "decide", key, "--decision", "kill"])
    assert decided.output == f"decided {key}: decided (kill)\n"
    assert Path(".shipit/shipit.db").is_file()


def test_refusals_are_shipit_errors() -> None:
    spec = str(EXAMPLES / "search_ranking.yaml")
    runner.invoke(app, ["experiment", "create", spec])
    result = runner.invoke(app, ["experiment", "decide", "search-ranking-v3", "--decision", "ship"])
    assert isinstance(result.exception, StateError)
    bad = runner.invoke(app, ["experiment", "decide", "search-ranking-v3", "--decision", "maybe"])
    assert bad.exit_code == 2


def test_conflicting_start_is_refused(tmp_path: Path) -> None:
    text = (EXAMPLES / "search_ranking.yaml").read_text()
    other = tmp_path / "other.yaml"
    other.write_text(text.replace("key: search-ranking-v3", "key: other-search"))
    (tmp_path / "metrics.yaml").write_text((EXAMPLES / "metrics.yaml").read_text())
    runner.invoke(app, ["experiment", "create", str(EXAMPLES / "search_ranking.yaml")])
    runner.invoke(app, ["experiment", "create", str(other)])
    assert runner.invoke(app, ["experiment", "start", "search-ranking-v3"]).exit_code == 0
    result = runner.invoke(app, ["experiment", "start", "other-search"])
    assert isinstance(result.exception, ConflictError)
    assert "search-ranking-v3 [0.0, 0.5]" in str(result.exception)


def test_database_url_option_and_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    spec = str(EXAMPLES / "checkout_button.yaml")
    assert runner.invoke(app, ["experiment", "create", spec, "--database-url", url]).exit_code == 0
    listed = runner.invoke(app, ["experiment", "list"], env={"SHIPIT_DATABASE_URL": url})
    assert "checkout-button-color" in listed.output
    assert not Path(".shipit/shipit.db").exists()


def test_main_prints_errors_without_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\nvariants: [{key: a, weight: 0.5}, {key: b, weight: 0.7}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "shipit", "experiment", "create", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{bad}:2: variants: weights must sum to 1" in done.stderr


def test_create_from_a_file_is_all_or_nothing(tmp_path: Path) -> None:
    two = "variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]"
    spec = tmp_path / "many.yaml"
    spec.write_text(f"experiments:\n  - key: new-one\n    {two}\n  - key: old\n    {two}\n")
    old = tmp_path / "old.yaml"
    old.write_text(f"key: old\n{two}\n")
    assert runner.invoke(app, ["experiment", "create", str(old)]).exit_code == 0
    result = runner.invoke(app, ["experiment", "create", str(spec)])
    assert isinstance(result.exception, ConflictError)
    assert "new-one" not in runner.invoke(app, ["experiment", "list"]).output


def test_decide_help_names_every_decision() -> None:
    from shipit.spec.decision import Decision

    shown = runner.invoke(app, ["experiment", "decide", "--help"], terminal_width=200).output
    assert "ship, kill or iterate" not in shown
    for value in Decision:
        assert value.value in shown

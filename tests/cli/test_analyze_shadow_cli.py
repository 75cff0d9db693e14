"""``shipit load shadow_predictions`` and ``shipit analyze examples/shadow.yaml``: the shadow
run's numbers in JSON, its sections in the terminal, Markdown and HTML (with the histogram)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.sim.shadow import simulate_scores
from shipit.store import EVENTS, DuckDBEngine

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "shadow.yaml")
runner = CliRunner()


def _store(tmp_path: Path) -> str:
    sim = simulate_scores(8, units=400)
    csv = tmp_path / "shadow.csv"
    sim.shadow_table("fraud-model-shadow").to_pandas().to_csv(csv, index=False)
    store = str(tmp_path / "store.duckdb")
    loaded = runner.invoke(app, ["load", "shadow_predictions", str(csv), "--store", store])
    assert loaded.exit_code == 0, loaded.output
    engine = DuckDBEngine(store)
    engine.append(EVENTS, sim.events_table("chargeback_label").to_batches())
    engine.close()
    return store


def test_analyze_a_shadow_spec_in_every_format(tmp_path: Path) -> None:
    store = _store(tmp_path)
    out = tmp_path / "a.json"
    run = runner.invoke(
        app, ["analyze", EXAMPLE, "--store", store, "--format", "json", "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    shadow = doc["shadow"]
    assert (shadow["production"], shadow["candidate"]) == ("production", "candidate")
    assert shadow["requests"] == len(pd.read_csv(tmp_path / "shadow.csv"))
    assert [m["metric"] for m in shadow["offline"]] == ["accuracy", "mse", "log_loss"]
    assert [q["q"] for q in shadow["latency"][0]["quantiles"]] == [0.5, 0.95, 0.99]
    assert sum(shadow["difference"]["counts"]) == shadow["paired"]
    assert doc["verdict"]["decision"] == "iterate"
    table = runner.invoke(app, ["analyze", EXAMPLE, "--store", store, "--format", "table"])
    assert table.exit_code == 0, table.output
    for text in ("Shadow run", "Latency quantiles", "Offline metrics", "Histogram"):
        assert text in table.output
    md = tmp_path / "a.md"
    assert (
        runner.invoke(
            app, ["analyze", EXAMPLE, "--store", store, "--format", "md", "--out", str(md)]
        ).exit_code
        == 0
    )
    assert "## Shadow run" in md.read_text()
    html = tmp_path / "a.html"
    assert (
        runner.invoke(
            app, ["analyze", EXAMPLE, "--store", store, "--format", "html", "--out", str(html)]
        ).exit_code
        == 0
    )
    page = html.read_text()
    assert 'id="chart-shadow_differences"' in page
    assert "Differences" in page


def test_a_shadow_spec_with_nothing_logged_is_a_clear_error(tmp_path: Path) -> None:
    store = str(tmp_path / "empty.duckdb")
    engine = DuckDBEngine(store)
    engine.append(EVENTS, simulate_scores(0, units=5).events_table("x").to_batches())
    engine.close()
    run = runner.invoke(app, ["analyze", EXAMPLE, "--store", store])
    assert run.exit_code != 0
    assert "has no shadow predictions in the store" in run.output + str(run.exception)

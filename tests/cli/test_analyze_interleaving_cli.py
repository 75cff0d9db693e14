"""``shipit analyze examples/interleaving.yaml``: the interleaving block in JSON (valid against
the published schema), and the same numbers in the terminal, Markdown and HTML reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.result import format as fmt
from shipit.result.schema import from_json, published_schema
from shipit.sim.interleaving import textbook_pair
from shipit.sim.interleaving_events import interleaving_events
from shipit.store.engine import connect
from shipit.store.tables import TABLES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "interleaving.yaml"
runner = CliRunner()


def _store(tmp_path: Path) -> str:
    table = interleaving_events(
        textbook_pair(),
        sessions=3000,
        units=600,
        seed=2,
        experiment="search-interleaving",
        rankers=("bm25", "learned"),
        click_event="search_click",
    )
    path = str(tmp_path / "store.duckdb")
    engine = connect(path)
    engine.append(TABLES["events"], table.to_batches())
    engine.close()
    return path


def test_analyze_an_interleaving_spec_in_every_format(tmp_path: Path) -> None:
    store = _store(tmp_path)
    base = ["analyze", str(EXAMPLE), "--store", store]
    out = runner.invoke(app, [*base, "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    jsonschema.validate(data, published_schema())
    il = data["interleaving"]
    assert from_json(out.stdout).interleaving is not None
    assert il["variant"] == "learned"
    assert il["sessions"] == 3000
    share = fmt.share(il["preference"])
    interval = fmt.interval(il["ci_low"], il["ci_high"], fmt.share)
    for kind in ("table", "md", "html"):
        target = tmp_path / f"report.{kind}"
        made = runner.invoke(app, [*base, "--format", kind, "--out", str(target)])
        assert made.exit_code == 0, made.output
        text = target.read_text()
        assert "Interleaving" in text
        assert share in text
        assert interval in text or kind == "table"  # rich may wrap the table's cells
        assert fmt.count(il["ab_sessions_needed"]) in text

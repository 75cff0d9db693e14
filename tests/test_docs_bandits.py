"""docs/bandits.md: its spec is the example's, every field and JSON key it lists exists,
and the commands it names run: create, start, load, ``shipit bandit update`` and
``shipit assign`` serving the new period's weights."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.result.bandit import BanditArm, BanditPeriodSummary, BanditResult
from shipit.spec import BanditSpec, load_experiment
from shipit.spec.io import loads_experiments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "bandits.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "bandit.yaml"
runner = CliRunner()


def test_the_spec_block_is_the_example_and_every_field_is_documented() -> None:
    [block] = re.findall(r"^```yaml\n(.*?)^```", DOC, flags=re.M | re.S)
    [shown] = loads_experiments(block, "docs/bandits.md")
    example = load_experiment(EXAMPLE)
    assert shown == example.model_copy(update={"name": "", "owner": "", "hypothesis": ""})
    for field in BanditSpec.model_fields:
        assert f"| `{field}` |" in DOC, field
    keys = re.search(r"JSON keys \(`bandit`\): (.*?)\n\n", DOC, flags=re.S)
    assert keys is not None
    listed = set(re.findall(r"`([a-z_]+)(?:\[\])?`", keys.group(1))) - {"bandit", "ipw"}
    fields = {*BanditResult.model_fields, *BanditArm.model_fields}
    fields |= set(BanditPeriodSummary.model_fields)
    assert listed == fields


def test_the_commands_update_a_bandit_and_assign_with_its_new_weights(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'registry.db'}"]
    assert runner.invoke(app, ["experiment", "create", str(EXAMPLE), *db]).exit_code == 0
    started = runner.invoke(app, ["experiment", "start", "headline-bandit", *db])
    assert started.exit_code == 0, started.output
    store = tmp_path / "store.duckdb"
    engine = DuckDBEngine(store)
    rng = np.random.default_rng(4)
    units = [f"u{i}" for i in range(900)]
    variants = [("current", "bold", "short")[i % 3] for i in range(900)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    load(engine, "exposures", pa.table({
        "experiment": ["headline-bandit"] * 900, "phase": [1] * 900, "unit_id": units,
        "variant": variants, "timestamp": [now] * 900,
    }))  # fmt: skip
    rate = {"current": 0.05, "bold": 0.05, "short": 0.30}
    buyers = [u for u, v in zip(units, variants, strict=True) if rng.random() < rate[v]]
    load(engine, "events", pa.table({
        "unit_id": buyers, "event": ["signup"] * len(buyers),
        "timestamp": [now + timedelta(seconds=1)] * len(buyers),
    }))  # fmt: skip
    engine.close()
    args = ["bandit", "update", "headline-bandit", "--store", str(store), *db]
    out = runner.invoke(app, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["updated"] is False  # update_every (1h) has not passed
    out = runner.invoke(app, [*args, "--force", "--format", "json"])
    assert out.exit_code == 0, out.output
    weights = json.loads(out.output)["periods"][-1]["weights"]
    assert weights["short"] > 0.85
    assert min(weights.values()) >= 0.05 - 1e-9
    table = runner.invoke(app, ["bandit", "periods", "headline-bandit", *db])
    assert table.exit_code == 0, table.output
    assert "update" in table.output
    ids = tmp_path / "units.txt"
    ids.write_text("\n".join(f"new{i}" for i in range(2000)) + "\n")
    out = runner.invoke(app, ["assign", "headline-bandit", "--units", str(ids), *db])
    assert out.exit_code == 0, out.output
    served = [line.split(",")[1] for line in out.output.splitlines()[1:]]
    assert abs(served.count("short") / 2000 - weights["short"]) < 0.03

"""Long-term holdout: the holdout against everyone exposed after the ship, checked against
pandas on the raw rows of a seeded simulation with a known lasting effect."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from shipit.assign import Assigner, Reason
from shipit.errors import SpecError
from shipit.operate.holdout import analyze_holdout
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

SHIP = datetime(2026, 11, 1, tzinfo=UTC)
LIFT = 0.10


def _experiment() -> Experiment:
    return Experiment.model_validate(
        {
            "key": "widget",
            "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "holdout": {"name": "q4", "fraction": 0.1},
            "metrics": [{"name": "revenue", "event": "purchase", "aggregation": "sum"}],
            "primary_metric": "revenue",
        }
    )


def test_holdout_effect_matches_pandas_and_the_known_lift() -> None:
    exp = _experiment()
    rng = np.random.default_rng(7)
    n = 20_000
    units = [f"u{i}" for i in range(n)]
    # the holdout as assignment sees it: an independent oracle for the split
    reasons = Assigner(exp).assign_batch(units).reasons()
    held = np.array([r is Reason.HOLDOUT for r in reasons])
    value = rng.gamma(2.0, 5.0, n) * np.where(held, 1.0, 1 + LIFT)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "unit_id": units,
            "event": "purchase",
            "timestamp": pd.Timestamp("2026-11-03") + pd.to_timedelta(rng.uniform(0, 72, n), "h"),
            "value": value,
        }
    )
    old = events.head(50).assign(  # before the ship: not part of the comparison
        event_id=[f"old{i}" for i in range(50)], timestamp=pd.Timestamp("2026-10-01")
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "events", pd.concat([events, old]))
    result = analyze_holdout(exp, engine, SHIP)
    assert result.experiment == "widget.holdout"
    assert result.control == "holdout"
    assert result.units == {"holdout": int(held.sum()), "exposed": int((~held).sum())}
    [effect] = [e for e in result.effects if e.metric == "revenue"]
    expected = value[~held].mean() / value[held].mean() - 1
    assert effect.raw.rel_effect == pytest.approx(expected, rel=1e-9)
    assert effect.raw.rel_ci_low < LIFT < effect.raw.rel_ci_high
    assert {t.name: t.status for t in result.trust}["srm"] == "pass"
    again = analyze_holdout(exp, engine, SHIP)  # idempotent: the same exposures
    assert again.units == result.units


def test_an_experiment_without_holdout_is_refused() -> None:
    exp = _experiment().model_copy(update={"holdout": None})
    with pytest.raises(SpecError, match="has no holdout"):
        analyze_holdout(exp, DuckDBEngine(":memory:"), SHIP)


def test_holdout_cli() -> None:
    import json

    from typer.testing import CliRunner

    from shipit.cli.main import app
    from shipit.registry import open_registry

    exp = _experiment()
    repo = open_registry()
    repo.create(exp)
    repo.start("widget")
    repo.decide("widget", "ship", stop_running=True)
    repo.close()
    rng = np.random.default_rng(3)
    n = 3000
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "unit_id": [f"u{i}" for i in range(n)],
            "event": "purchase",
            "timestamp": pd.Timestamp.now("UTC").tz_localize(None) + pd.Timedelta(hours=1),
            "value": rng.gamma(2.0, 5.0, n),
        }
    )
    engine = DuckDBEngine(".shipit/store.duckdb")
    load(engine, "events", events)
    engine.close()
    out = CliRunner().invoke(app, ["holdout", "widget", "--format", "json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["experiment"] == "widget.holdout"
    assert sum(result["units"].values()) == n
    bad = CliRunner().invoke(app, ["holdout", "widget", "--since", "soon"])
    assert "not an ISO date" in str(bad.exception)

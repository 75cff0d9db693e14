"""No silent zeros: typos and mistimed data are refused or flagged, never read as zeros."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from shipit.analysis import analyze
from shipit.errors import DataError, EngineError
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import map_table
from shipit.store.loaders import load

SRC = Path(__file__).resolve().parents[3] / "src"
T0 = pd.Timestamp("2024-05-01 09:00:00")


def _spec(metrics: list[dict[str, Any]], **extra: Any) -> Experiment:
    variants = extra.pop("variants", ["control", "treatment"])
    return Experiment.model_validate(
        {
            "key": "promo",
            "variants": [{"key": v, "weight": 1 / len(variants)} for v in variants],
            "metrics": metrics,
            **extra,
        }
    )


def _frames(n: int = 200, *, late_exposure: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n units half in each variant; each buys twice an hour after exposure (or, with
    ``late_exposure``, an hour before an exposure stamped late)."""
    units = [f"u{i}" for i in range(n)]
    exposures = pd.DataFrame(
        {
            "experiment": "promo",
            "unit_id": units,
            "variant": ["control" if i % 2 else "treatment" for i in range(n)],
            "timestamp": [T0 + pd.Timedelta(minutes=i) for i in range(n)],
            "country": ["NA" if i % 3 else "de" for i in range(n)],
        }
    )
    shift = pd.Timedelta(hours=-1 if late_exposure else 1)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}-{k}" for i in range(n) for k in range(2)],
            "unit_id": [u for u in units for _ in range(2)],
            "event": "purchase",
            "timestamp": [t + shift for t in exposures["timestamp"] for _ in range(2)],
            "value": [float(i % 5) for i in range(n) for _ in range(2)],
            "channel": "web",
        }
    )
    return exposures, events


@pytest.fixture
def engine() -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    exposures, events = _frames()
    load(e, "exposures", exposures)
    load(e, "events", events)
    return e


REVENUE = {"name": "revenue", "event": "purchase"}


def test_a_normal_analysis_passes_the_timing_check(engine: DuckDBEngine) -> None:
    a = analyze(_spec([REVENUE]), engine, daily=False)
    check = next(c for c in a.trust if c.name == "events_before_exposure")
    assert check.status == "pass"
    assert check.details["share_revenue"] == 0.0


def test_an_event_typo_is_refused_naming_the_events_that_exist(engine: DuckDBEngine) -> None:
    with pytest.raises(DataError) as err:
        analyze(_spec([{"name": "revenue", "event": "purchse"}]), engine)
    msg = str(err.value)
    assert "metric 'revenue', field event: event 'purchse' has no rows" in msg
    assert "did you mean 'purchase'" in msg
    assert "events in the store: 'purchase'" in msg
    assert "\n" not in msg


def test_a_ratio_denominator_typo_names_its_field(engine: DuckDBEngine) -> None:
    ratio = {
        "name": "aov",
        "numerator": {"event": "purchase"},
        "denominator": {"event": "order", "aggregation": "count"},
    }
    with pytest.raises(DataError, match=r"field denominator\.event: event 'order'"):
        analyze(_spec([ratio]), engine)


def test_a_missing_value_column_is_refused_listing_the_columns(engine: DuckDBEngine) -> None:
    with pytest.raises(DataError) as err:
        analyze(_spec([{"name": "revenue", "event": "purchase", "value": "amount"}]), engine)
    msg = str(err.value)
    assert "metric 'revenue', field value: column 'amount' is not in the events table" in msg
    assert "'channel'" in msg
    assert "'value'" in msg


def test_a_text_column_summed_is_refused(engine: DuckDBEngine) -> None:
    with pytest.raises(DataError, match=r"column 'channel' of the events table holds VARCHAR"):
        analyze(_spec([{"name": "revenue", "event": "purchase", "value": "channel"}]), engine)


def test_a_text_column_may_be_counted_distinct(engine: DuckDBEngine) -> None:
    metric = {
        "name": "channels",
        "event": "purchase",
        "value": "channel",
        "aggregation": "count_distinct",
    }
    a = analyze(_spec([metric]), engine, daily=False)
    assert a.effects[0].mean_control == 1.0


def test_a_covariate_column_needs_a_units_table(engine: DuckDBEngine) -> None:
    metric = {**REVENUE, "covariates": [{"name": "pre", "column": "pre_revenue"}]}
    with pytest.raises(DataError, match=r"field covariates\[0\]\.column.*no units table"):
        analyze(_spec([metric]), engine)


def test_a_variant_typo_is_refused_not_an_srm_halt(engine: DuckDBEngine) -> None:
    spec = _spec([REVENUE], variants=["control", "treatmnet"])
    with pytest.raises(DataError) as err:
        analyze(spec, engine)
    msg = str(err.value)
    assert "variant 'treatmnet' of experiment 'promo' has no exposures" in msg
    assert "did you mean 'treatment'" in msg
    assert "'control' (100), 'treatment' (100)" in msg


def test_an_experiment_without_exposures_lists_the_ones_with(engine: DuckDBEngine) -> None:
    spec = _spec([REVENUE]).model_copy(update={"key": "promo2"})
    with pytest.raises(DataError, match=r"'promo2' has no exposures.*with exposures: 'promo'"):
        analyze(spec, engine)


def test_exposures_of_another_phase_are_named_not_guessed_at() -> None:
    """Exposures stored without a phase (or in another one) are not "did you mean" the same
    key: the message says which phases hold them."""
    e = DuckDBEngine(":memory:")
    exposures, events = _frames()
    exposures["phase"] = [None if i < 150 else 1 for i in range(len(exposures))]
    load(e, "exposures", exposures)
    load(e, "events", events)
    with pytest.raises(DataError) as err:
        analyze(_spec([REVENUE]), e, phase=2)
    msg = str(err.value)
    assert "'promo' has no exposures in the store in phase 2" in msg
    assert "its exposures are in no phase (150), phase 1 (50)" in msg
    assert "did you mean" not in msg


def test_an_unknown_segment_lists_the_attributes(engine: DuckDBEngine) -> None:
    with pytest.raises(DataError, match=r"segment 'countyr'.*did you mean 'country'"):
        analyze(_spec([REVENUE]), engine, segments=["countyr"])


def test_a_segment_value_na_is_kept(engine: DuckDBEngine) -> None:
    a = analyze(_spec([REVENUE]), engine, segments=["country"], daily=False)
    assert {s.segment for s in a.segments} == {"NA", "de"}


def test_exposures_stamped_after_their_events_fail_a_trust_check() -> None:
    e = DuckDBEngine(":memory:")
    exposures, events = _frames(late_exposure=True)
    load(e, "exposures", exposures)
    load(e, "events", events)
    a = analyze(_spec([REVENUE]), e, daily=False)
    check = next(c for c in a.trust if c.name == "events_before_exposure")
    assert check.status == "fail"
    assert check.details["share_revenue"] == 1.0
    assert "revenue 100%" in check.message
    assert a.verdict.decision != "ship"


def test_an_engine_error_names_the_metric_not_raw() -> None:
    """A mapped table whose timestamps are not timestamps fails inside the engine."""
    e = DuckDBEngine(":memory:")
    exposures, events = _frames(20)
    load(e, "exposures", exposures)
    bad = events.assign(timestamp="yesterday")
    e.con.register("raw_events", bad)
    e.execute("CREATE TABLE my_events AS FROM raw_events")
    map_table(e, "events", "my_events")
    with pytest.raises(EngineError) as err:
        analyze(_spec([REVENUE]), e, daily=False)
    msg = str(err.value)
    assert msg.startswith("computing metrics 'revenue' failed in the engine:")
    assert "\n" not in msg


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    e = DuckDBEngine(store)
    exposures, events = _frames(20)
    load(e, "exposures", exposures)
    load(e, "events", events)
    e.close()
    spec = tmp_path / "promo.yaml"
    spec.write_text(
        "key: promo\nvariants: [{key: control, weight: 0.5}, {key: treatment, weight: 0.5}]\n"
        "metrics: [{name: revenue, event: purchases}]\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "shipit", "analyze", str(spec), "--store", str(store)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "300"},
        check=False,
    )
    assert run.returncode == 2, run.stderr
    lines = [x for x in run.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, run.stderr
    assert "event 'purchases' has no rows" in lines[0]


def test_shipit_metrics_refuses_an_event_typo_too(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shipit.cli.main import app

    store = tmp_path / "store.duckdb"
    e = DuckDBEngine(store)
    exposures, events = _frames(20)
    load(e, "exposures", exposures)
    load(e, "events", events)
    e.close()
    metrics = tmp_path / "metrics.yaml"
    metrics.write_text("- {name: revenue, event: purchases}\n")
    args = ["metrics", "promo", "--metrics", str(metrics), "--store", str(store)]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, DataError)
    assert "event 'purchases' has no rows" in str(result.exception)

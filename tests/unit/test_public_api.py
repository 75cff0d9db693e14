"""``import shipit`` gives the few names a user needs, each the library's own object."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shipit


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert shipit.__all__ == sorted(shipit.__all__)
    for name in shipit.__all__:
        assert getattr(shipit, name) is not None, name
    assert set(shipit.__all__) <= set(dir(shipit))


def test_the_names_are_the_packages_own_objects() -> None:
    from shipit.analysis import analyze
    from shipit.result import Analysis
    from shipit.spec import Experiment, load_experiment
    from shipit.store.engine import connect

    assert shipit.analyze is analyze
    assert shipit.Analysis is Analysis
    assert shipit.Experiment is Experiment
    assert shipit.load_experiment is load_experiment
    assert shipit.connect is connect
    assert issubclass(shipit.SpecError, shipit.ShipitError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'analyse'"):
        _ = shipit.analyse  # type: ignore[attr-defined]


def test_importing_shipit_loads_no_heavy_library() -> None:
    code = (
        "import sys, shipit; "
        "print(sorted(m for m in ('scipy', 'duckdb', 'pandas', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_quick_start_runs_end_to_end(tmp_path: object) -> None:
    """The docstring's four lines analyse a real experiment from a DuckDB store."""
    import numpy as np
    import pandas as pd

    from shipit.store.loaders import load

    spec = shipit.Experiment.model_validate(
        {
            "key": "quick",
            "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
            "metrics": [{"name": "bought", "event": "buy", "aggregation": "any"}],
            "primary_metric": "bought",
        }
    )
    rng = np.random.default_rng(5)
    n = 2_000
    units = [f"u{i}" for i in range(n)]
    variant = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    ts = pd.Timestamp("2026-11-01", tz="UTC")
    exposures = pd.DataFrame(
        {"unit_id": units, "experiment": "quick", "variant": variant, "timestamp": ts, "phase": 1}
    )
    buys = rng.random(n) < np.where(variant == "control", 0.10, 0.12)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(int(buys.sum()))],
            "unit_id": np.array(units)[buys],
            "event": "buy",
            "timestamp": ts + pd.Timedelta(hours=1),
            "value": 1.0,
        }
    )
    engine = shipit.connect(str(tmp_path) + "/store.duckdb")
    try:
        load(engine, "exposures", exposures)
        load(engine, "events", events)
        analysis = shipit.analyze(spec, engine)
    finally:
        engine.close()
    assert isinstance(analysis, shipit.Analysis)
    effect = analysis.effect("bought", "treatment")
    assert effect is not None
    assert effect.n_control + effect.n_variant == n
    assert analysis.verdict.decision in {"ship", "iterate", "kill", "halt", "roll_back"}

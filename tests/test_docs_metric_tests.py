"""Every YAML example of docs/metric-tests.md loads and analyses on a generated store."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipit.analysis import analyze
from shipit.spec.io import loads_experiments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

DOC = Path(__file__).resolve().parent.parent / "docs" / "metric-tests.md"
T0 = pd.Timestamp("2024-03-01")


def _blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture(scope="module")
def engine() -> DuckDBEngine:
    rng = np.random.default_rng(17)
    n = 4_000
    units = np.array([f"u{i}" for i in range(n)])
    variant = rng.choice(["control", "treatment"], n)
    exposures = pd.DataFrame(
        {
            "experiment": "docs-demo",
            "phase": 1,
            "unit_id": units,
            "variant": variant,
            "timestamp": T0,
            "age_band": rng.choice(["18-34", "35-54", "55+"], n),
        }
    )
    clicks = rng.poisson(np.where(variant == "treatment", 1.3, 1.2))
    buys = rng.poisson(0.4, n)
    frames = []
    for event, k in (("click", clicks), ("purchase", buys)):
        owner = np.repeat(np.arange(n), k)
        frames.append(
            pd.DataFrame(
                {
                    "event_id": [f"{event}{i}" for i in range(owner.size)],
                    "unit_id": units[owner],
                    "event": event,
                    "timestamp": T0 + pd.Timedelta(hours=1),
                    "value": np.round(rng.gamma(2.0, 10.0, owner.size), 2),
                }
            )
        )
    e = DuckDBEngine(":memory:")
    load(e, "exposures", exposures)
    load(e, "events", pd.concat(frames, ignore_index=True))
    return e


def test_the_page_has_the_four_examples() -> None:
    assert len(_blocks()) == 4


@pytest.mark.parametrize("index", range(4))
def test_example_runs(engine: DuckDBEngine, index: int) -> None:
    (exp,) = loads_experiments(_blocks()[index], source=f"{DOC.name} block {index + 1}")
    a = analyze(exp, engine, daily=False)
    kinds = {e.metric: e.kind for e in a.effects}
    if index == 0:
        assert kinds == {"clicks": "rank"}
        assert all(e.raw.p_value is not None for e in a.effects)
        rank = a.effects[0].rank
        assert rank is not None
        assert rank.p_value == a.effects[0].raw.p_value
        assert rank.ci_low is not None
        assert rank.ci_high is not None
        assert rank.ci_low < rank.prob_superiority < rank.ci_high  # type: ignore[operator]
    elif index == 1:
        assert set(kinds.values()) == {"bootstrap"}
        assert all(e.raw.abs_ci_low is not None for e in a.effects)
    elif index == 2:
        assert exp.analysis.correction == "hommel"
        assert all(e.best.p_value_adjusted is not None for e in a.effects)
    else:
        check = next(t for t in a.trust if t.name == "fairness_age_band")
        assert check.status in ("pass", "warn", "fail")
        assert {"highest", "lowest", "max_difference", "max_ratio"} <= set(check.details)

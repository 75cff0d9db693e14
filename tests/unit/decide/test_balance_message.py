"""The pre-period balance check names the variant it is about, in the rendered report:
with two treatments, each check's message says which arm differs from control, by how
much and with what interval (checked against the delta method by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shipit.analysis import analyze
from shipit.report.analysis_terminal import to_text
from shipit.report.markdown import render_markdown
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

N = 4000  # units per arm
ARMS = ("control", "fast", "slow")
SHIFT = {"control": 0.0, "fast": 0.05, "slow": 0.0}  # pre-period watch time, relative


def _engine(seed: int = 5) -> tuple[DuckDBEngine, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    arm = np.repeat(np.arange(len(ARMS)), N)
    ids = [f"u{i}" for i in range(arm.size)]
    shift = np.array([SHIFT[a] for a in ARMS])[arm]
    pre = rng.gamma(20.0, 5.0, arm.size) * (1 + shift)
    ts = pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.uniform(0, 48, arm.size), unit="h")
    engine = DuckDBEngine(":memory:")
    load(
        engine,
        "exposures",
        pd.DataFrame(
            {
                "experiment": "bal",
                "phase": 1,
                "unit_id": ids,
                "variant": np.array(ARMS)[arm],
                "timestamp": ts,
            }
        ),
    )
    load(
        engine,
        "events",
        pd.DataFrame(
            {
                "unit_id": ids,
                "event": "watch",
                "timestamp": ts + pd.Timedelta(hours=1),
                "value": pre * rng.lognormal(0, 0.2, arm.size),
            }
        ),
    )
    units = pd.DataFrame({"unit_id": ids, "pre_watch_time": pre})
    load(engine, "units", units)
    return engine, units.assign(variant=np.array(ARMS)[arm])


def _experiment() -> Experiment:
    return Experiment.model_validate(
        {
            "key": "bal",
            "variants": [{"key": a, "weight": 1 / 3} for a in ARMS],
            "metrics": [
                {
                    "name": "watch_time",
                    "event": "watch",
                    "aggregation": "sum",
                    "covariates": [{"name": "pre_watch_time", "column": "pre_watch_time"}],
                }
            ],
            "primary_metric": "watch_time",
            "analysis": {"cuped": True},
        }
    )


def test_each_balance_message_names_its_variant_and_control() -> None:
    engine, units = _engine()
    result = analyze(_experiment(), engine, daily=False)
    checks = {t.name: t for t in result.trust if t.name.startswith("balance")}
    assert set(checks) == {"balance", "balance_slow"}
    fast, slow = checks["balance"], checks["balance_slow"]
    # The +5% shift of "fast" by hand: relative difference of means, delta-method interval.
    x = {a: units.loc[units["variant"] == a, "pre_watch_time"].to_numpy() for a in ARMS}
    mc, mv = x["control"].mean(), x["fast"].mean()
    se = np.sqrt(x["fast"].var(ddof=1) / N / mc**2 + mv**2 * x["control"].var(ddof=1) / N / mc**4)
    r = mv / mc - 1
    ci = f"[{r - 1.96 * se:+.1%}, {r + 1.96 * se:+.1%}]"
    want = f"pre_watch_time of fast is {r:+.1%} {ci} vs control"
    assert fast.status == "warn"
    assert want in fast.message
    assert slow.status == "pass"
    assert "of slow balanced against control" in slow.message
    # The same words reach the terminal and Markdown reports.
    text = " ".join(to_text(result, width=400).split())
    assert want in text
    assert "of slow balanced against control" in text
    assert want in render_markdown(result)

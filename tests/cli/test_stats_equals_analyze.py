"""``shipit stats`` and ``shipit analyze`` are one analysis core: fed the moments that
``shipit metrics --format json`` prints, ``shipit stats`` gives the effects, intervals and
p-values of ``shipit analyze --format json`` for the same experiment, to 1e-9.

The experiment (a DuckDB store) has a mean metric with a pre-period covariate (CUPED), a
proportion and a ratio, two treatments against the control, and a count guardrail. The
families of the correction coincide by construction: ``analyze`` corrects over every
metric × variant comparison of the primary and secondary metrics (guardrails excluded,
docs/analysis-json.md), so ``shipit stats`` is fed exactly those metrics (not the
guardrail), and ``stats`` corrects over all its results. ``stats`` corrects the raw
p-values; ``analyze`` corrects the estimates it acts on (CUPED where it ran) and, beside a
CUPED estimate, the raw p-values of the same family. So with CUPED off the adjusted
p-values are equal row for row, and with CUPED on the raw adjusted p-values of the CUPED
rows are, while ``analyze``'s acted-on family is checked against statsmodels on the
p-values ``stats`` prints (its ``cuped`` block where CUPED ran).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.stats.multitest import multipletests

from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

SRC = Path(__file__).resolve().parents[2] / "src"
T0 = pd.Timestamp("2024-05-01")
METRICS = [
    {
        "name": "revenue",
        "event": "purchase",
        "aggregation": "sum",
        "window": {"start_hours": 0, "end_hours": 336},
        "covariates": [{"name": "pre_revenue", "event": "purchase"}],
    },
    {"name": "converted", "event": "purchase", "aggregation": "any"},
    {
        "name": "page_load_ms",
        "numerator": {"event": "page_load", "aggregation": "sum"},
        "denominator": {"event": "page_load", "aggregation": "count"},
        "higher_is_better": False,
    },
    {"name": "loads", "event": "page_load", "aggregation": "count"},
]
FAMILY = ("revenue", "converted", "page_load_ms")  # primary + secondary: the corrected family
KEYS = (
    "mean_control",
    "mean_variant",
    "abs_effect",
    "abs_se",
    "abs_ci_low",
    "abs_ci_high",
    "rel_effect",
    "rel_se",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
)
CUPED_KEYS = ("abs_effect", "abs_ci_low", "abs_ci_high", "rel_effect", "rel_ci_low")
CUPED_KEYS += ("rel_ci_high", "p_value")
STATSMODELS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def _shipit(*args: str, cwd: Path) -> Any:
    """``python -m shipit ARGS`` in ``cwd`` on this tree's sources; its JSON output."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 units split 50/25/25; purchases before (the covariate) and after exposure,
    with a lift for both treatments, and page loads (the ratio and the guardrail)."""
    out = tmp_path_factory.mktemp("stats-equals-analyze")
    rng = np.random.default_rng(11)
    n = 2000
    ids = np.array([f"u{i}" for i in range(n)])
    variant = rng.choice(["control", "a", "b"], n, p=[0.5, 0.25, 0.25])
    first = T0 + pd.to_timedelta(rng.integers(0, 5 * 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": "three", "unit_id": ids, "variant": variant, "timestamp": first}
    )
    lift = np.select([variant == "a", variant == "b"], [1.05, 1.15], 1.0)
    base = rng.gamma(2.0, 10.0, n)  # a unit's spending level, before and after
    pre, post, loads = rng.poisson(1.5, n), rng.poisson(1.5, n), 1 + rng.poisson(3, n)
    frames = []
    for tag, count, sign, scale in (("q", pre, -1, np.ones(n)), ("p", post, 1, lift)):
        owner = np.repeat(np.arange(n), count)
        hours = rng.integers(1, 300 if sign > 0 else 288, owner.size)
        frames.append(
            pd.DataFrame(
                {
                    "event_id": [f"{tag}{i}" for i in range(owner.size)],
                    "unit_id": ids[owner],
                    "event": "purchase",
                    "timestamp": first[owner] + sign * pd.to_timedelta(hours, "h"),
                    "value": base[owner] * scale[owner] * rng.gamma(2.0, 0.5, owner.size),
                }
            )
        )
    owner = np.repeat(np.arange(n), loads)
    frames.append(
        pd.DataFrame(
            {
                "event_id": [f"l{i}" for i in range(owner.size)],
                "unit_id": ids[owner],
                "event": "page_load",
                "timestamp": first[owner] + pd.to_timedelta(rng.integers(1, 300, owner.size), "h"),
                "value": rng.gamma(5.0, 40.0, owner.size),
            }
        )
    )
    engine = DuckDBEngine(str(out / "store.duckdb"))
    load(engine, "exposures", exposures)
    load(engine, "events", pd.concat(frames, ignore_index=True))
    engine.close()
    (out / "metrics.yaml").write_text(yaml.safe_dump({"metrics": METRICS}))
    return out


def _spec(store: Path, correction: str, cuped: bool) -> Path:
    spec = {
        "key": "three",
        "variants": [
            {"key": "control", "weight": 0.5},
            {"key": "a", "weight": 0.25},
            {"key": "b", "weight": 0.25},
        ],
        "metrics_files": ["metrics.yaml"],
        "primary_metric": "revenue",
        "secondary_metrics": ["converted", "page_load_ms"],
        "guardrails": [{"metric": "loads", "relative_threshold": 0.1}],
        "analysis": {"correction": correction, "cuped": cuped},
    }
    path = store / f"spec-{correction}-{cuped}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _variant_sums(row: dict[str, Any], kind: str) -> dict[str, Any]:
    """One ``shipit metrics`` row (n and moment sums) as a ``shipit stats`` variant entry."""
    xs = [f"x{i}" for i in range(1, len(row)) if f"x{i}_sum" in row]
    if kind == "ratio":
        out: dict[str, Any] = {
            "n": row["n"],
            "num_sum": row["sum"],
            "den_sum": row["den_sum"],
            "num_sum_sq": row["sum_sq"],
            "den_sum_sq": row["den_sum_sq"],
            "num_den_sum": row["num_den_sum"],
        }
    else:
        out = {"n": row["n"], "sum": row["sum"]}
        if kind == "mean":
            out["sum_sq"] = row["sum_sq"]
    if xs:

        def cross(a: str, b: str) -> float:
            value = row.get(f"{a}_{b}_sum", row.get(f"{b}_{a}_sum"))
            assert value is not None, (a, b, sorted(row))
            return float(value)

        out["cov_sums"] = [row[f"{x}_sum"] for x in xs]
        out["cov_sq"] = [[row[f"{x}_sum_sq"] if x == z else cross(x, z) for z in xs] for x in xs]
        if kind == "ratio":
            out["cov_num"] = [cross("num", x) for x in xs]
            out["cov_den"] = [cross("den", x) for x in xs]
        else:
            out["cov_y"] = [cross("y", x) for x in xs]
    return out


def _stats_input(moments: dict[str, Any], kinds: dict[str, str], correction: str) -> Any:
    """The ``shipit stats`` request of the family's metrics, from ``shipit metrics`` JSON."""
    metrics = []
    for name in FAMILY:
        rows = {r["variant"]: r for r in moments["metrics"] if r["metric"] == name}
        variants = {v: _variant_sums(rows[v], kinds[name]) for v in ("control", "a", "b")}
        metrics.append({"name": name, "kind": kinds[name], "variants": variants})
    return {"correction": correction, "control": "control", "metrics": metrics}


@pytest.fixture(scope="module")
def moments(store: Path) -> Any:
    return _shipit(
        "metrics", "three", "--metrics", "metrics.yaml", "--store", "store.duckdb",
        "--format", "json", cwd=store,
    )  # fmt: skip


def _close(a: float | None, b: float | None, what: str) -> None:
    if a is None or b is None:
        assert a is b, what
    else:
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), what


@pytest.mark.parametrize("cuped", [True, False], ids=["cuped", "raw"])
@pytest.mark.parametrize("correction", ["none", "bonferroni", "holm", "bh"])
def test_stats_fed_the_metrics_moments_equals_analyze(
    store: Path, moments: Any, correction: str, cuped: bool
) -> None:
    analysis = _shipit(
        "analyze", _spec(store, correction, cuped).name, "--store", "store.duckdb",
        "--format", "json", cwd=store,
    )  # fmt: skip
    effects = {(e["metric"], e["variant"]): e for e in analysis["effects"]}
    kinds = {m: effects[(m, "a")]["kind"] for m in FAMILY}
    assert kinds == {"revenue": "mean", "converted": "proportion", "page_load_ms": "ratio"}
    request = store / f"stats-{correction}.json"
    request.write_text(json.dumps(_stats_input(moments, kinds, correction)))
    summary = _shipit("stats", request.name, cwd=store)
    assert summary["correction"] == correction
    results = {(r["metric"], r["variant"]): r for r in summary["results"]}
    assert set(results) == {(m, v) for m in FAMILY for v in ("a", "b")}
    best: list[float] = []
    for key, row in results.items():
        e = effects[key]
        assert (row["n_control"], row["n_variant"]) == (e["n_control"], e["n_variant"])
        for name in KEYS:
            value = e[name] if name.startswith("mean_") else e["raw"][name]
            _close(row[name], value, f"{key} raw {name}")
        assert ("cuped" in row) == (key[0] == "revenue"), key
        if cuped and key[0] == "revenue":
            assert e["adjusted"] is not None, key
            for name in CUPED_KEYS:
                _close(row["cuped"][name], e["adjusted"][name], f"{key} CUPED {name}")
            # what the adjustment did reads the same in both: θ and the variance reduction
            for name in ("variance_reduction", "equivalent_n"):
                _close(row["cuped"][name], e["cuped"][name], f"{key} CUPED {name}")
            np.testing.assert_allclose(
                list(e["cuped"]["theta"].values()), row["cuped"]["theta"], rtol=1e-9
            )
            assert list(e["cuped"]["theta"]) == ["pre_revenue"]
            best.append(row["cuped"]["p_value"])
        else:
            assert e["adjusted"] is None, key
            assert e["cuped"] is None, key
            best.append(row["p_value"])
        if not cuped or e["adjusted"] is not None:
            # both corrected over the raw p-values of the family
            _close(row["p_value_adjusted"], e["raw"]["p_value_adjusted"], f"{key} adjusted p")
    # analyze corrects the estimates it acts on (CUPED where it ran) over the same family
    expected = (
        np.array(best)
        if correction == "none"
        else multipletests(best, method=STATSMODELS[correction])[1]
    )
    got = [(effects[k]["adjusted"] or effects[k]["raw"])["p_value_adjusted"] for k in results]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    # the guardrail is outside the family
    assert all(effects[("loads", v)]["raw"]["p_value_adjusted"] is None for v in ("a", "b"))

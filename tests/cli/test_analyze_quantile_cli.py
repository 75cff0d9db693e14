"""``python -m shipit analyze`` of a spec with a quantile primary and a p95 latency guardrail
on a DuckDB store: effects with intervals in JSON, Markdown and HTML, no errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-05-01")
SPEC = {
    "key": "fast-search",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "faster", "weight": 0.5}],
    "metrics": [
        {
            "name": "spend_median",
            "event": "purchase",
            "aggregation": "sum",
            "value": "value",
            "quantile": 0.5,
            "quantile_of": "units",
        },
        {
            "name": "latency_p95",
            "event": "page_load",
            "value": "value",
            "quantile": 0.95,
            "higher_is_better": False,
        },
        {"name": "converted", "event": "purchase", "aggregation": "any"},
    ],
    "primary_metric": "spend_median",
    "secondary_metrics": ["converted"],
    "guardrails": [{"metric": "latency_p95", "relative_threshold": 0.05}],
    "analysis": {"segments": ["country"]},
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """600 units over three days; each loads pages (latency with a unit effect; the
    variant is 20% faster) and some buy."""
    out = tmp_path_factory.mktemp("quantile")
    rng = np.random.default_rng(5)
    n = 600
    ids = np.array([f"u{i}" for i in range(n)])
    variant = rng.choice(["control", "faster"], n)
    first = T0 + pd.to_timedelta(rng.integers(0, 3 * 86400, n), "s")
    exposures = pd.DataFrame(
        {
            "experiment": "fast-search",
            "unit_id": ids,
            "variant": variant,
            "timestamp": first,
            "country": rng.choice(["de", "fr"], n),
        }
    )
    pages = 1 + rng.poisson(4, n)
    owner = np.repeat(np.arange(n), pages)
    speed = np.where(variant[owner] == "faster", 0.8, 1.0)
    latency = np.exp(5.0 + rng.normal(0, 0.4, n)[owner] + rng.normal(0, 0.3, owner.size)) * speed
    buyers = np.flatnonzero(rng.random(n) < 0.6)
    events = pd.DataFrame(
        {
            "event_id": [f"p{i}" for i in range(owner.size)] + [f"b{i}" for i in buyers],
            "unit_id": np.concatenate([ids[owner], ids[buyers]]),
            "event": ["page_load"] * owner.size + ["purchase"] * buyers.size,
            "timestamp": np.concatenate(
                [
                    first[owner] + pd.to_timedelta(rng.integers(1, 86400, owner.size), "s"),
                    first[buyers] + pd.Timedelta(hours=2),
                ]
            ),
            "value": np.concatenate([latency, np.round(rng.gamma(2.0, 20.0, buyers.size), 2)]),
        }
    )
    path = out / "store.duckdb"
    engine = DuckDBEngine(str(path))
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    engine.close()
    spec = out / "fast-search.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    return path, spec


def test_analyze_quantile_spec_as_json(store: tuple[Path, Path]) -> None:
    path, spec = store
    result = _run("analyze", str(spec), "--store", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    effects = {e["metric"]: e for e in data["effects"]}
    for name in ("spend_median", "latency_p95"):
        e = effects[name]
        assert e["kind"] == "quantile"
        raw = e["raw"]
        assert raw["status"] == "ok", raw
        assert raw["abs_ci_low"] < raw["abs_effect"] < raw["abs_ci_high"]
        assert raw["rel_ci_low"] < raw["rel_effect"] < raw["rel_ci_high"]
        assert 0 <= raw["p_value"] <= 1
        assert e["adjusted"] is None
    # 20% faster pages: the p95 drops by about 20%, and the guardrail is green.
    lat = effects["latency_p95"]["raw"]
    assert lat["rel_ci_low"] < -0.1
    assert lat["rel_ci_high"] < 0
    (guard,) = data["guardrails"]
    assert guard["metric"] == "latency_p95"
    assert guard["light"] == "green", guard
    assert {s["segment"] for s in data["segments"]} == {"de", "fr"}
    assert all(s["estimate"]["abs_ci_low"] is not None for s in data["segments"])
    assert data["daily"], "effects by day"


@pytest.mark.parametrize(("fmt", "marker"), [("md", "# fast-search"), ("html", "<html")])
def test_analyze_quantile_spec_as_report(
    store: tuple[Path, Path], tmp_path: Path, fmt: str, marker: str
) -> None:
    path, spec = store
    out = tmp_path / f"report.{fmt}"
    result = _run("analyze", str(spec), "--store", str(path), "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert marker in text
    assert "latency_p95" in text
    assert "spend_median" in text
    assert "Traceback" not in text


def test_slower_pages_turn_the_latency_guardrail_red(store: tuple[Path, Path]) -> None:
    """With the fast variant as the control, the other one loads 25% slower: red, not shipped."""
    path, _ = store
    spec = path.parent / "slow.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "control": "faster"}))
    result = _run("analyze", str(spec), "--store", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (guard,) = data["guardrails"]
    assert guard["light"] == "red", guard
    assert data["verdict"]["decision"] not in {"ship", "ship_to_segment"}

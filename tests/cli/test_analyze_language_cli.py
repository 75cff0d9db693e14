"""``python -m shipit analyze`` of a spec using the metric language (a funnel primary, a
filtered secondary, a capped and winsorized guardrail): JSON with the funnel steps, an HTML
report with their table, and a one-line error naming the metric for a missing property."""

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
STEPS = ["view_item", "add_to_cart", "purchase"]
SPEC = {
    "key": "new-cart",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "cart", "weight": 0.5}],
    "metrics": [
        {"name": "checkout", "funnel": STEPS, "within_hours": 12},
        {
            "name": "revenue_fr",
            "event": "purchase",
            "where": [{"property": "country", "op": "eq", "value": "fr"}],
        },
        {
            "name": "revenue_capped",
            "event": "purchase",
            "cap": {"min": 0, "max": 200},
            "winsorize": {"lower": 0.05, "upper": 0.95},
        },
    ],
    "primary_metric": "checkout",
    "secondary_metrics": ["revenue_fr"],
    "guardrails": [{"metric": "revenue_capped", "relative_threshold": 0.5}],
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
    out = tmp_path_factory.mktemp("language")
    rng = np.random.default_rng(9)
    n = 800
    ids = np.array([f"u{i}" for i in range(n)])
    variant = rng.choice(["control", "cart"], n)
    first = T0 + pd.to_timedelta(rng.integers(0, 2 * 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": "new-cart", "unit_id": ids, "variant": variant, "timestamp": first}
    )
    rows = []
    alive = np.ones(n, dtype=bool)
    t = first + pd.Timedelta(minutes=1)
    for step in STEPS:
        alive &= rng.random(n) < np.where(variant == "cart", 0.7, 0.55)
        rows += [(ids[i], step, t[i], rng.gamma(2.0, 40.0)) for i in np.flatnonzero(alive)]
        t = t + pd.to_timedelta(rng.integers(60, 4 * 3600, n), "s")
    events = pd.DataFrame(rows, columns=["unit_id", "event", "timestamp", "value"])
    events["country"] = rng.choice(["fr", "de"], len(events))
    path = out / "store.duckdb"
    engine = DuckDBEngine(str(path))
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    engine.close()
    spec = out / "new-cart.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    return path, spec


def test_analyze_language_spec_as_json(store: tuple[Path, Path]) -> None:
    path, spec = store
    result = _run("analyze", str(spec), "--store", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    effects = {e["metric"]: e for e in data["effects"]}
    assert effects["checkout"]["kind"] == "funnel"
    assert effects["checkout"]["raw"]["abs_effect"] > 0
    assert effects["revenue_fr"]["raw"]["status"] == "ok"
    steps = [s for s in data["funnel_steps"] if s["variant"] == "cart"]
    assert [s["event"] for s in steps] == STEPS
    for s in steps:
        assert s["conversion_ci_low"] <= s["conversion"] <= s["conversion_ci_high"]
    assert steps[-1]["rate"] == pytest.approx(effects["checkout"]["mean_variant"], abs=1e-12)


def test_analyze_language_spec_as_html(store: tuple[Path, Path], tmp_path: Path) -> None:
    path, spec = store
    out = tmp_path / "report.html"
    result = _run("analyze", str(spec), "--store", str(path), "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "Funnel steps" in text
    assert "2. add_to_cart" in text


def test_missing_property_is_one_line_naming_the_metric(store: tuple[Path, Path]) -> None:
    path, _ = store
    bad = dict(SPEC)
    bad["metrics"] = [
        *SPEC["metrics"][:1],  # type: ignore[index]
        {
            "name": "revenue_fr",
            "event": "purchase",
            "where": [{"property": "region", "value": "x"}],
        },
        *SPEC["metrics"][2:],  # type: ignore[index]
    ]
    spec_bad = path.parent / "bad.yaml"
    spec_bad.write_text(yaml.safe_dump(bad))
    result = _run("analyze", str(spec_bad), "--store", str(path), "--format", "json")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "metric 'revenue_fr'" in result.stderr
    assert "'region'" in result.stderr

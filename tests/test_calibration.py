"""``benchmarks/calibration.py`` runs every calibration check, its own and its siblings'."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


cal = _load("calibration")


def test_every_sibling_check_is_registered_with_its_size() -> None:
    for module, size in (("calibration_sequential", "paths"), ("calibration_decisions", "reps")):
        for name in sys.modules[module].CHECKS:
            key = name.replace("_", "-")
            assert key in cal.CHECKS
            assert cal.SIZED_BY[key] == size
    assert {"coverage-by-lift", "coverage-small-n", "bayes-direction"} <= set(cal.CHECKS)


def test_a_sequential_check_becomes_rows_with_error_and_target() -> None:
    rows = cal.CHECKS["gst-three-treatments"](300, 1)
    assert [r.target for r in rows] == ["≤ 0.017", "≤ 0.050"]
    for r in rows:
        assert 0.0 <= r.value <= 1.0
        n = 900 if "each" in r.setting else 300  # per comparison: 3 per path
        assert r.se == pytest.approx((r.value * (1 - r.value) / n) ** 0.5)
        assert r.ok == (r.value <= float(r.target[2:]) + 2 * r.se)


def test_only_runs_the_named_checks_and_rejects_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cal.main(["--only", "false-ships-frequentist-1", "--reps", "200"])
    out = capsys.readouterr().out
    assert "false-ships-frequentist-1" in out
    assert "gst-" not in out
    assert "of 1 figures on target" in out
    assert code == (0 if "1 of 1 figures" in out else 1)
    with pytest.raises(SystemExit):
        cal.main(["--only", "nope"])

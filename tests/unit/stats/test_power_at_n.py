"""Power and MDE at a given n against statsmodels (NormalIndPower, power_proportions_2indep)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import power_proportions_2indep
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.errors import InputError
from shipit.stats.power_at_n import achieved_power, detectable_effect

SM_ALT = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
runner = CliRunner()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(10, 10**6),
    effect=st.floats(0.001, 1.0),
    alpha=st.floats(0.001, 0.2),
    alternative=st.sampled_from(["two-sided", "greater"]),
    variants=st.integers(2, 5),
    reduction=st.floats(0.0, 0.9),
)
def test_mean_power_matches_normal_ind_power(
    n: int, effect: float, alpha: float, alternative: str, variants: int, reduction: float
) -> None:
    sd = 3.0
    got = achieved_power(
        "mean",
        n,
        effect * sd,
        sd=sd,
        alpha=alpha,
        alternative=alternative,
        variants=variants,
        variance_reduction=reduction,
    )
    ref = NormalIndPower().power(
        effect, n / (1 - reduction), alpha / (variants - 1), alternative=SM_ALT[alternative]
    )
    assert float(got) == pytest.approx(ref, rel=1e-9, abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(20, 10**6),
    power=st.floats(0.3, 0.99),
    alpha=st.floats(0.001, 0.2),
    alternative=st.sampled_from(["two-sided", "greater"]),
)
def test_mde_of_a_mean_reaches_the_target_power(
    n: int, power: float, alpha: float, alternative: str
) -> None:
    sd = 2.5
    mde = float(
        detectable_effect("mean", n, sd=sd, alpha=alpha, power=power, alternative=alternative)
    )
    # statsmodels' power at our MDE is the target; its own root finder stops early (about
    # 1e-3 relative on some inputs), so it only has to agree loosely
    sm = NormalIndPower()
    at = sm.power(mde / sd, n, alpha, alternative=SM_ALT[alternative])
    assert at == pytest.approx(power, abs=1e-9)
    solved = sm.solve_power(None, n, alpha, power, alternative=SM_ALT[alternative])
    assert mde / sd == pytest.approx(solved, rel=1e-2)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize(("baseline", "mde", "n"), [(0.1, 0.01, 14_000), (0.5, 0.03, 2_000)])
def test_proportion_power_matches_power_proportions_2indep(
    baseline: float, mde: float, n: int, alternative: str
) -> None:
    got = float(achieved_power("proportion", n, mde, baseline=baseline, alternative=alternative))
    diff = -mde if alternative == "less" else mde
    ref = power_proportions_2indep(diff, baseline, n, alternative=SM_ALT[alternative]).power
    assert got == pytest.approx(ref, rel=1e-9)
    # the MDE at that n brings the power back to the target
    mde_back = float(
        detectable_effect("proportion", n, baseline=baseline, power=got, alternative=alternative)
    )
    assert mde_back == pytest.approx(mde, rel=1e-8)


def test_relative_mde_and_bad_inputs() -> None:
    rel = achieved_power("mean", 1000, 0.05, sd=4.0, baseline=20.0, relative=True)
    assert float(rel) == pytest.approx(float(achieved_power("mean", 1000, 1.0, sd=4.0)))
    with pytest.raises(InputError, match="--sd"):
        achieved_power("mean", 100, 0.1)
    with pytest.raises(InputError, match="baseline"):
        detectable_effect("proportion", 100)
    with pytest.raises(InputError, match="≥ 2"):
        detectable_effect("mean", 1, sd=1.0)
    with pytest.raises(InputError, match="between 0 and 1"):
        achieved_power("proportion", 100, 0.95, baseline=0.1)
    assert np.isnan(detectable_effect("proportion", 3, baseline=0.5))
    with pytest.raises(InputError, match="exceed alpha"):
        detectable_effect("mean", 100, sd=1.0, power=0.04)


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, ["power", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_cli_prints_the_mde_at_n_and_the_power_at_n_and_mde() -> None:
    out = _json(["--kind", "mean", "--sd", "12", "--n", "5000", "--variants", "3"])
    assert out["solve"] == "mde"
    assert out["per_variant"] == 5000
    assert out["total"] == 15000
    ref = NormalIndPower().solve_power(None, 5000, 0.025, 0.8)
    assert out["mde_absolute"] == pytest.approx(12 * ref, rel=1e-3)
    assert NormalIndPower().power(out["mde_absolute"] / 12, 5000, 0.025) == pytest.approx(0.8)

    out = _json(["--kind", "proportion", "--baseline", "0.1", "--n", "14000", "--mde", "0.01"])
    assert out["solve"] == "power"
    assert out["power"] == pytest.approx(power_proportions_2indep(0.01, 0.1, 14000).power)
    assert out["mde_relative"] == pytest.approx(0.1)

    args = ["--kind", "mean", "--sd", "12", "--baseline", "40", "--mde", "0.02", "--relative"]
    out = _json([*args, "--n", "20000"])
    assert out["mde_absolute"] == pytest.approx(0.8)
    assert out["power"] == pytest.approx(NormalIndPower().power(0.8 / 12, 20000, 0.05))

    table = runner.invoke(app, ["power", "--kind", "mean", "--sd", "12", "--n", "5000"])
    assert table.exit_code == 0
    assert "minimum detectable effect" in table.stdout


def test_cli_power_without_mde_or_n_and_unreachable_power_fail_cleanly() -> None:
    res = runner.invoke(app, ["power", "--kind", "mean", "--sd", "12"])
    assert res.exit_code == 2
    assert "--mde is needed" in res.output
    res = runner.invoke(app, ["power", "--kind", "proportion", "--baseline", "0.5", "--n", "3"])
    assert res.exit_code == 2
    assert "no effect reaches power" in res.output
    res = runner.invoke(app, ["power", "--kind", "mean", "--n", "300"])
    assert res.exit_code == 2
    assert "--sd" in res.output

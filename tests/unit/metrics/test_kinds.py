"""Metric kinds: the registry, and each built-in kind comparing by its own test.

The references are independent of shipit: scipy's Welch test, statsmodels' pooled
two-proportion z test, and the delta method for a ratio written out on per-unit values.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportions_ztest

from shipit.errors import SpecError
from shipit.metrics.kinds import MomentKind, kind_of, register, registered
from shipit.metrics.kinds import base as kinds_base
from shipit.spec.metric import MetricDef
from shipit.stats.cuped import compare_cuped
from shipit.stats.moments import Moments

MEAN = MetricDef(name="revenue", event="purchase", aggregation="sum")
PROPORTION = MetricDef(name="converted", event="purchase", aggregation="any")
RATIO = MetricDef(
    name="per_view",
    numerator={"event": "purchase", "aggregation": "sum"},
    denominator={"event": "view", "aggregation": "count"},
)


def test_every_spec_kind_has_its_kind() -> None:
    assert registered()[:3] == ("proportion", "mean", "ratio")  # built-ins first; plug-ins follow
    for metric in (MEAN, PROPORTION, RATIO):
        assert kind_of(metric).name == metric.kind
    assert kind_of(MEAN).value_columns(MEAN) == ("y",)
    assert kind_of(RATIO).value_columns(RATIO) == ("num", "den")
    assert kind_of(RATIO).unit_values(RATIO) == (
        ("num", RATIO.numerator),
        ("den", RATIO.denominator),
    )
    assert kind_of(MEAN).unit_values(MEAN) == (("y", MEAN),)


def test_a_second_kind_under_a_taken_name_is_refused() -> None:
    class Other(MomentKind):
        name = "mean"

    with pytest.raises(SpecError, match="'mean' is already registered"):
        register(Other())
    assert register(kind_of(MEAN)) is kind_of(MEAN)  # the same kind again is a no-op


def test_a_metric_without_a_registered_kind_is_a_spec_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(kinds_base._KINDS, "mean")
    with pytest.raises(SpecError, match=r"metric 'revenue': no metric kind 'mean'"):
        kind_of(MEAN)


def _two_groups(columns: dict[str, np.ndarray], n: int) -> Moments:
    groups = np.repeat(["control", "variant"], n)
    return Moments.from_arrays(groups, columns, labels=["control", "variant"])


def _compare(metric: MetricDef, m: Moments, **kw: bool) -> tuple[float, float]:
    kind = kind_of(metric)
    c, v = kind.pair(m, [0], [1])
    cmp = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=kw.get("cuped", False))
    return float(cmp.raw.rel_effect[0]), float(cmp.raw.p_value[0])


def test_mean_kind_is_welchs_t_test() -> None:
    rng = np.random.default_rng(1)
    y = np.r_[rng.gamma(2.0, 3.0, 400), rng.gamma(2.2, 3.0, 400)]
    rel, p = _compare(MEAN, _two_groups({"y": y}, 400))
    ref = sps.ttest_ind(y[400:], y[:400], equal_var=False)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)
    assert rel == pytest.approx(y[400:].mean() / y[:400].mean() - 1.0, rel=1e-12)


def test_proportion_kind_is_the_pooled_z_test() -> None:
    rng = np.random.default_rng(2)
    y = np.r_[rng.random(900) < 0.10, rng.random(900) < 0.13].astype(float)
    _, p = _compare(PROPORTION, _two_groups({"y": y}, 900))
    _, ref = proportions_ztest([y[900:].sum(), y[:900].sum()], [900, 900])
    assert p == pytest.approx(ref, rel=1e-9)
    # The mean kind on the same values is Welch's test: a different p-value.
    assert _compare(MEAN, _two_groups({"y": y}, 900))[1] != pytest.approx(ref, rel=1e-6)


def test_ratio_kind_is_the_delta_method_on_the_ratio_of_sums() -> None:
    rng = np.random.default_rng(3)
    n = 500
    den = rng.poisson(5.0, 2 * n).astype(float) + 1.0
    num = den * rng.gamma(2.0, 1.0, 2 * n) * np.r_[np.ones(n), np.full(n, 1.1)]
    m = _two_groups({"num": num, "den": den}, n)
    kind = kind_of(RATIO)
    c, v = kind.pair(m, [0], [1])
    cmp = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=False)

    def ratio_and_var(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        r = a.sum() / b.sum()
        lin = (a - r * b) / b.mean()
        return r, lin.var(ddof=1) / len(a)

    rc, vc = ratio_and_var(num[:n], den[:n])
    rv, vv = ratio_and_var(num[n:], den[n:])
    z = (rv - rc) / np.sqrt(vc + vv)
    assert float(cmp.raw.abs_effect[0]) == pytest.approx(rv - rc, rel=1e-9)
    assert float(cmp.raw.p_value[0]) == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-7)


def test_cuped_only_when_asked_and_the_summary_has_covariates() -> None:
    rng = np.random.default_rng(4)
    x = rng.gamma(2.0, 3.0, 800)
    y = x + rng.normal(0, 1, 800) + np.r_[np.zeros(400), np.full(400, 0.3)]
    kind = kind_of(MEAN)
    with_x = _two_groups({"y": y, "x1": x}, 400)
    c, v = kind.pair(with_x, [0], [1])
    cmp = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=True)
    assert isinstance(c, Moments)
    assert isinstance(v, Moments)
    ref = compare_cuped(c, v, "mean")
    assert cmp.adjusted is not None
    assert cmp.best is cmp.adjusted
    np.testing.assert_array_equal(cmp.adjusted.p_value, ref.adjusted.p_value)
    np.testing.assert_array_equal(cmp.control.mean, ref.adjustment.control.mean)
    # The adjusted interval is much narrower than the raw one (x explains most of y).
    assert cmp.adjusted.abs_se[0] < 0.5 * cmp.raw.abs_se[0]
    assert kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=False).adjusted is None
    plain = _two_groups({"y": y}, 400)
    c0, v0 = kind.pair(plain, [0], [1])
    assert kind.compare(c0, v0, alpha=0.05, alternative="two-sided", cuped=True).adjusted is None


def test_pair_repeats_a_control_row_against_each_variant() -> None:
    y = np.arange(9, dtype=float)
    groups = np.repeat(["a", "b", "c"], 3)
    m = Moments.from_arrays(groups, {"y": y}, labels=["a", "b", "c"])
    c, v = kind_of(MEAN).pair(m, [0, 0], [1, 2])
    assert isinstance(c, Moments)
    assert isinstance(v, Moments)
    np.testing.assert_array_equal(c.sum("y"), [3.0, 3.0])
    np.testing.assert_array_equal(v.sum("y"), [12.0, 21.0])
    assert len(set(c.labels)) == 2

"""Mann-Whitney from the engine's rank sums equals scipy on the raw per-unit values.

Counts 0..5 (many ties; units without events count 0), three variants against the
control, overall and by segment; U and p to 1e-9 for every alternative, with and
without the continuity correction; θ against the pairwise count on the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from shipit.metrics.kinds import kind_of
from shipit.metrics.kinds.rank import RankSummary
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey, MetricMoments
from shipit.spec.metric import MetricDef
from shipit.stats.rank import mann_whitney
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-03-01")
VARIANTS = ["control", "a", "b", "c"]


@pytest.fixture(scope="module")
def store() -> tuple[DuckDBEngine, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 1200
    variant = rng.choice(VARIANTS, n)
    shift = pd.Series(variant).map({"control": 0.0, "a": 0.0, "b": 0.3, "c": -0.2}).to_numpy()
    clicks = np.clip(rng.poisson(1.5 + shift), 0, 5)  # 0..5, heavily tied
    units = np.array([f"u{i}" for i in range(n)])
    exposures = pd.DataFrame(
        {
            "experiment": "rank",
            "phase": 1,
            "unit_id": units,
            "variant": variant,
            "timestamp": T0,
            "country": rng.choice(["de", "fr"], n),
        }
    )
    owner = np.repeat(np.arange(n), clicks)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(owner.size)],
            "unit_id": units[owner],
            "event": "click",
            "timestamp": T0 + pd.Timedelta(hours=2),
            "value": 1.0,
        }
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    rows = pd.DataFrame({"variant": variant, "country": exposures["country"], "y": clicks})
    return engine, rows


METRIC = MetricDef(name="clicks", event="click", aggregation="count", test="mann_whitney")


def _summary(engine: DuckDBEngine, by: str | None = None) -> tuple[RankSummary, MetricMoments]:
    mm = compute_moments(engine, "rank", 1, VARIANTS, [METRIC], by=by)
    s = mm[METRIC.name]
    assert isinstance(s, RankSummary)
    return s, mm


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("continuity", [True, False])
def test_u_and_p_equal_scipy_for_every_variant(
    store: tuple[DuckDBEngine, pd.DataFrame], alternative: str, continuity: bool
) -> None:
    engine, rows = store
    s, mm = _summary(engine)
    kind = kind_of(METRIC)
    others = VARIANTS[1:]
    _, v = kind.pair(s, mm.rows([GroupKey("control")] * 3), mm.rows([GroupKey(x) for x in others]))
    assert isinstance(v, RankSummary)
    n_c, n_v, u, ties, sq_v, sq_c = v.oriented()
    r = mann_whitney(
        n_c, n_v, u, ties, sq_v, sq_c, alternative=alternative, use_continuity=continuity
    )
    x_c = rows.y[rows.variant == "control"].to_numpy()
    for i, name in enumerate(others):
        x_v = rows.y[rows.variant == name].to_numpy()
        ref = mannwhitneyu(
            x_v, x_c, alternative=alternative, method="asymptotic", use_continuity=continuity
        )
        assert r.u[i] == pytest.approx(ref.statistic, rel=1e-12, abs=1e-9)
        assert r.p_value[i] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
        # θ: the share of (variant, control) pairs where the variant is larger, ties ½.
        diff = x_v[:, None] - x_c[None, :]
        theta = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
        assert r.prob_superiority[i] == pytest.approx(theta, rel=1e-12)
        assert r.ci_low[i] < theta < r.ci_high[i]


def test_the_comparison_carries_mann_whitney_p_and_welch_means(
    store: tuple[DuckDBEngine, pd.DataFrame],
) -> None:
    engine, rows = store
    s, mm = _summary(engine, by="country")
    kind = kind_of(METRIC)
    for country in ("de", "fr"):
        cells = [GroupKey("control", segment=country), GroupKey("b", segment=country)]
        c, v = kind.pair(s, mm.rows(cells[:1]), mm.rows(cells[1:]))
        r = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=True).raw
        sub = rows[rows.country == country]
        x_c = sub.y[sub.variant == "control"].to_numpy()
        x_v = sub.y[sub.variant == "b"].to_numpy()
        ref = mannwhitneyu(x_v, x_c, method="asymptotic")
        assert r.p_value[0] == pytest.approx(ref.pvalue, rel=1e-9)
        assert r.statistic[0] == pytest.approx(ref.statistic, rel=1e-12)
        assert r.abs_effect[0] == pytest.approx(x_v.mean() - x_c.mean(), rel=1e-12)


def test_delong_interval_covers_under_the_null() -> None:
    """Seeded A/A draws of tied counts: θ's 95% interval covers ½ about 95% of the time."""
    rng = np.random.default_rng(3)
    hits = 0
    reps = 400
    for _ in range(reps):
        a = rng.poisson(1.0, 150).clip(0, 5)
        b = rng.poisson(1.0, 150).clip(0, 5)
        # The summaries from the rows, as the engine would give them.
        values = np.union1d(a, b)
        ca = np.array([np.sum(a == x) for x in values], dtype=float)
        cb = np.array([np.sum(b == x) for x in values], dtype=float)
        below_a, below_b = np.cumsum(ca) - ca, np.cumsum(cb) - cb
        la, lb = below_a + 0.5 * ca, below_b + 0.5 * cb
        t = ca + cb
        r = mann_whitney(
            150, 150, np.sum(cb * la), np.sum(t**3 - t), np.sum(cb * la**2), np.sum(ca * lb**2)
        )
        hits += int(r.ci_low[0] <= 0.5 <= r.ci_high[0])
    assert 0.93 <= hits / reps <= 0.97

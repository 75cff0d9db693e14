"""Groups cross into analysis as structured keys: labels are collision-free, lookups by key.

Under the old labels ``variant/segment``, variant ``control`` in segment ``x/y`` and
variant ``control/x`` in segment ``y`` were both ``control/x/y``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.analysis import analyze
from shipit.errors import InputError
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

REVENUE = MetricDef(name="revenue", event="purchase", aggregation="sum")
T0 = pd.Timestamp("2024-05-01")

text = st.text(alphabet="ab/@\\", max_size=4)
keys = st.builds(GroupKey, text, st.none() | text, st.none() | text)


@given(st.lists(keys, unique=True, max_size=8))
def test_distinct_keys_have_distinct_labels(group_keys: list[GroupKey]) -> None:
    labels = [k.label for k in group_keys]
    assert len(set(labels)) == len(labels)


def test_plain_values_keep_their_readable_labels() -> None:
    assert GroupKey("control").label == "control"
    assert GroupKey("control", segment="de").label == "control/de"
    assert GroupKey("control", day="2024-05-01").label == "control@2024-05-01"
    assert GroupKey("control", segment="x/y").label == r"control/x\/y"


def _store(variants: list[str], segments: list[str], n: int, seed: int) -> DuckDBEngine:
    """Units spread over variants and segments, each with a few purchases (effect +20%)."""
    rng = np.random.default_rng(seed)
    units = [f"u{i:05d}" for i in range(n)]
    variant = rng.choice(variants, n)
    exposures = pd.DataFrame(
        {
            "experiment": "keys",
            "phase": 1,
            "unit_id": units,
            "variant": variant,
            "timestamp": T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s"),
            "tier": rng.choice(segments, n),
        }
    )
    lift = np.where(variant == variants[0], 1.0, 1.2)
    count = rng.poisson(2.0, n)
    unit_of = np.repeat(np.arange(n), count)
    events = pd.DataFrame(
        {
            "unit_id": np.asarray(units)[unit_of],
            "event": "purchase",
            "timestamp": exposures["timestamp"].to_numpy()[unit_of] + pd.Timedelta(hours=1),
            "value": np.round(rng.gamma(2.0, 5.0, unit_of.size) * lift[unit_of], 2),
        }
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    return engine


def _per_unit(engine: DuckDBEngine) -> pd.DataFrame:
    return engine.query(
        "SELECT x.variant, x.tier, COALESCE(SUM(e.value), 0) AS revenue FROM exposures x "
        "LEFT JOIN events e USING (unit_id) GROUP BY x.unit_id, x.variant, x.tier"
    ).to_pandas()


def test_segments_that_collided_under_the_old_labels_stay_apart() -> None:
    variants = ["control", "control/x"]
    segments = ["x/y", "y", "a@b", "(none)\\"]
    engine = _store(variants, segments, 2_000, seed=11)
    mm = compute_moments(engine, "keys", 1, variants, [REVENUE], by="tier")
    m = mm.moments("revenue")
    assert len(set(m.labels)) == len(m.labels) == len(variants) * len(segments)
    want = _per_unit(engine).groupby(["variant", "tier"])["revenue"].agg(["size", "sum"])
    for (v, s), row in want.iterrows():
        i = mm.rows([GroupKey(v, segment=s)])[0]
        assert mm.groups[i] == GroupKey(v, segment=s)
        assert m.n[i] == row["size"]
        assert m.sum("y")[i] == pytest.approx(row["sum"], rel=1e-12)
    assert mm.units([GroupKey("control", segment="x/y")])[0] == want.loc[("control", "x/y")]["size"]
    assert mm.units([GroupKey("nobody")]).tolist() == [0.0]
    with pytest.raises(InputError, match="no group"):
        mm.rows([GroupKey("control", segment="x")])


def test_analysis_segments_with_slashes_and_ats_are_each_their_own() -> None:
    segments = ["a/b", "a@b", "a", "b"]
    engine = _store(["control", "treatment"], segments, 4_000, seed=12)
    exp = Experiment(
        key="keys",
        variants=[{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        metrics=[REVENUE],
        primary_metric="revenue",
        analysis=AnalysisPlan(segments=("tier",), cuped=False),
    )
    a = analyze(exp, engine, phase=1, daily=False)
    per_unit = _per_unit(engine)
    got = {s.segment: s for s in a.segments if s.dimension == "tier"}
    assert sorted(got) == sorted(segments)
    for s in segments:
        c = per_unit[(per_unit.tier == s) & (per_unit.variant == "control")]["revenue"]
        t = per_unit[(per_unit.tier == s) & (per_unit.variant == "treatment")]["revenue"]
        e = got[s]
        assert (e.n_control, e.n_variant) == (len(c), len(t))
        assert e.estimate.rel_effect == pytest.approx(t.mean() / c.mean() - 1.0, rel=1e-12)
        ref = sps.ttest_ind(t, c, equal_var=False).pvalue
        assert e.estimate.p_value == pytest.approx(ref, rel=1e-9)
    srm = next(t for t in a.trust if t.name == "srm_by_tier")
    assert srm.status in {"pass", "warn"}

"""Per-unit table moments: one query, equal to numpy on the raw rows; bad columns named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.errors import DataError, InputError
from shipit.metrics.summary import GroupKey
from shipit.metrics.table import table_moments
from shipit.spec.metric import Aggregate, Covariate, MetricDef
from shipit.store.frames import frame_table

X = (Covariate(name="pre", column="pre"),)
MEAN = MetricDef(name="y", column="y", covariates=X)
RATIO = MetricDef(
    name="r", numerator=Aggregate(column="y"), denominator=Aggregate(column="d"), covariates=X
)
FLAG = MetricDef(name="f", column="f")


def _frame(rng: np.random.Generator, n: int = 3_000) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": rng.choice(["a", "b", "c"], n),
            "seg": rng.choice(["x", "y"], n),
            "y": rng.gamma(2.0, 3.0, n),
            "d": rng.integers(1, 5, n),
            "pre": rng.normal(10.0, 2.0, n),
            "f": rng.integers(0, 2, n),
            "word": rng.choice(["p", "q"], n),
        }
    )


def test_moments_equal_numpy_on_raw_rows(rng: np.random.Generator) -> None:
    df = _frame(rng)
    ref = frame_table(df)
    tm = table_moments(
        ref.engine, ref.source, variant="arm", metrics=[MEAN, RATIO, FLAG], segments=["seg"]
    )
    assert tm.rows == len(df)
    assert tm.units is None
    assert tm.binary == {"y": False, "r": False, "f": True}
    assert tm.overall.groups == tuple(GroupKey(v) for v in "abc")
    for v in "abc":
        rows = df[df.arm == v]
        z = np.column_stack([np.ones(len(rows)), rows.y, rows.d, rows.pre])
        i = tm.overall.rows([GroupKey(v)])[0]
        np.testing.assert_allclose(
            tm.overall.moments("r").matrix[i], z.T @ z, rtol=1e-12, atol=1e-9
        )
        zy = z[:, [0, 1, 3]]
        np.testing.assert_allclose(tm.overall.moments("y").matrix[i], zy.T @ zy, rtol=1e-12)
        for s in ("x", "y"):
            cell = df[(df.arm == v) & (df.seg == s)]
            k = tm.by_segment["seg"].rows([GroupKey(v, segment=s)])[0]
            assert tm.by_segment["seg"].moments("f").matrix[k, 0, 1] == cell.f.sum()
    assert tm.sql.count("GROUPING SETS") == 1  # one query


def test_a_variant_absent_from_a_segment_gets_zero_moments(rng: np.random.Generator) -> None:
    df = _frame(rng, 200)
    df = df[~((df.arm == "c") & (df.seg == "y"))]
    ref = frame_table(df)
    tm = table_moments(ref.engine, ref.source, variant="arm", metrics=[FLAG], segments=["seg"])
    k = tm.by_segment["seg"].rows([GroupKey("c", segment="y")])[0]
    assert tm.by_segment["seg"].moments("f").matrix[k, 0, 0] == 0


@pytest.mark.parametrize(
    ("metric", "variant", "message"),
    [
        (MetricDef(name="m", column="amount"), "arm", "metric 'm': no column 'amount'"),
        (MetricDef(name="m", column="word"), "arm", "column 'word' .* not numbers"),
        (FLAG, "group", "variant column: no column 'group'.*columns: arm, seg"),
    ],
)
def test_bad_columns_are_named(
    rng: np.random.Generator, metric: MetricDef, variant: str, message: str
) -> None:
    ref = frame_table(_frame(rng, 50))
    with pytest.raises(InputError, match=message):
        table_moments(ref.engine, ref.source, variant=variant, metrics=[metric])


def test_missing_values_are_refused_not_zeroed(rng: np.random.Generator) -> None:
    df = _frame(rng, 50)
    df.loc[3, "y"] = np.nan
    ref = frame_table(df)
    with pytest.raises(DataError, match=r"metric 'y': column 'y' .* missing on 1 of 50 rows"):
        table_moments(ref.engine, ref.source, variant="arm", metrics=[MEAN])
    df = _frame(rng, 50)
    df.loc[4, "arm"] = None
    ref = frame_table(df)
    with pytest.raises(DataError, match=r"variant column 'arm' .* empty on 1 of 50 rows"):
        table_moments(ref.engine, ref.source, variant="arm", metrics=[FLAG])

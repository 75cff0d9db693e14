"""Per-unit tables through the analysis core: the notebook API, a spec's ``source`` block,
the SRM threshold on both paths, and bad input as one clear ShipitError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

import shipit
from shipit.cli.demo_run import run_demo
from shipit.cli.main import app
from shipit.errors import DataError, InputError, ShipitError, SpecError
from shipit.sim import scenario
from shipit.sim.storage import experiment_for
from shipit.spec.experiment import Experiment
from shipit.spec.io import dump_experiment, loads_experiments
from shipit.store.duckdb import DuckDBEngine

runner = CliRunner()


def _frame(rng: np.random.Generator, n: int = 2_000) -> pd.DataFrame:
    arm = rng.choice(["control", "new one"], n)
    pre = rng.normal(5.0, 1.0, n)
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "arm": arm,
            "pre": pre,
            "revenue": pre + (arm == "new one") * 0.3 + rng.normal(0, 1, n),
            "bought": rng.random(n) < np.where(arm == "new one", 0.3, 0.25),
            "country": rng.choice(["NA", "US"], n),
        }
    )


def test_notebook_api_matches_scipy_and_prints(rng: np.random.Generator) -> None:
    df = _frame(rng)
    result = shipit.analyze(
        df, variant="arm", metrics=["revenue", "bought"], covariates="pre", segments="country"
    )
    assert result.control == "control"
    effects = result.to_pandas().set_index("metric")
    c, v = df[df.arm == "control"], df[df.arm == "new one"]
    raw = next(e for e in result.effects if e.metric == "revenue").raw
    welch = stats.ttest_ind(v.revenue, c.revenue, equal_var=False)
    assert raw.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert effects.loc["bought", "kind"] == "proportion"
    assert bool(effects.loc["revenue", "cuped"])
    assert isinstance(result.to_arrow(), pa.Table)
    assert "not applicable (no timestamps)" in str(result)
    assert "<table" in result._repr_html_()
    assert "new one" in result._repr_html_()
    assert {s.segment for s in result.segments} == {"NA", "US"}  # NA is a country


def test_polars_and_arrow_frames_give_the_same_numbers(rng: np.random.Generator) -> None:
    pl = pytest.importorskip("polars")
    df = _frame(rng, 500)
    base = shipit.analyze(df, variant="arm", metrics="revenue").to_pandas()
    for frame in (pl.from_pandas(df), pa.Table.from_pandas(df)):
        other = shipit.analyze(frame, variant="arm", metrics="revenue").to_pandas()
        pd.testing.assert_frame_equal(base, other)


def test_an_ibis_table_runs_on_its_backend(rng: np.random.Generator, tmp_path: Path) -> None:
    ibis = pytest.importorskip("ibis")
    df = _frame(rng, 500)
    df.to_parquet(tmp_path / "t.parquet")
    con = ibis.duckdb.connect()
    table = con.read_parquet(tmp_path / "t.parquet")
    got = shipit.analyze(table, variant="arm", metrics="revenue").to_pandas()
    want = shipit.analyze(df, variant="arm", metrics="revenue").to_pandas()
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"metrics": ["amount"]}, InputError, "no column 'amount' in the data frame"),
        ({"metrics": ["country"]}, InputError, "column 'country' .* not numbers"),
        ({"metrics": ["revenue"], "control": "old"}, InputError, "control 'old' is not a variant"),
        ({"metrics": []}, InputError, "name at least one metric"),
        ({"ratios": ["revenue"]}, InputError, "NUMERATOR/DENOMINATOR"),
        ({"metrics": ["revenue"], "srm_threshold": 2.0}, ShipitError, "srm_threshold"),
    ],
)
def test_bad_input_is_one_clear_error(
    rng: np.random.Generator, kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        shipit.analyze(_frame(rng, 100), variant="arm", **kwargs)


def test_one_variant_only_is_refused(rng: np.random.Generator) -> None:
    df = _frame(rng, 100).assign(arm="control")
    with pytest.raises(DataError, match="has one value \\('control'\\)"):
        shipit.analyze(df, variant="arm", metrics="revenue")


def test_something_else_than_a_frame_is_refused() -> None:
    with pytest.raises(InputError, match="cannot read a int as a table"):
        shipit.analyze(3, variant="arm", metrics="y")


def _table_spec(path: Path, variants: list[str], **plan: object) -> str:
    return yaml.safe_dump(
        {
            "key": "table-spec",
            "variants": [{"key": v, "weight": 1 / len(variants)} for v in variants],
            "source": {"table": str(path), "variant": "arm", "unit": "user"},
            "metrics": [
                {
                    "name": "revenue",
                    "column": "revenue",
                    "covariates": [{"name": "pre", "column": "pre"}],
                },
                {"name": "bought", "column": "bought", "aggregation": "any"},
            ],
            "primary_metric": "revenue",
            "guardrails": [],
            "analysis": plan,
        }
    )


def test_a_spec_reads_its_source_table(rng: np.random.Generator, tmp_path: Path) -> None:
    df = _frame(rng)
    df["arm"] = df.arm.str.replace(" ", "_")
    path = tmp_path / "units.parquet"
    df.to_parquet(path)
    (spec,) = loads_experiments(_table_spec(path, ["control", "new_one"], srm_threshold=0.5))
    result = shipit.analyze(spec, DuckDBEngine(":memory:"))
    assert result.units == df.groupby("arm").size().to_dict()
    srm = next(t for t in result.trust if t.name == "srm")
    assert "0.5" in srm.message or srm.status == "pass"
    expected = stats.chisquare(df.groupby("arm").size().to_numpy()).pvalue
    assert srm.p_value == pytest.approx(expected, rel=1e-9)
    assert srm.status == ("fail" if expected < 0.5 else "pass")
    assert next(e for e in result.effects if e.metric == "bought").kind == "proportion"
    assert next(t for t in result.trust if t.name == "duplicate_units").status == "pass"
    # the CLI reads the same spec without a store
    (tmp_path / "spec.yaml").write_text(_table_spec(path, ["control", "new_one"]))
    out = runner.invoke(app, ["analyze", str(tmp_path / "spec.yaml"), "--format", "json"])
    assert out.exit_code == 0, out.output


def test_a_spec_variant_without_rows_is_refused(rng: np.random.Generator, tmp_path: Path) -> None:
    df = _frame(rng, 200)
    df["arm"] = df.arm.str.replace(" ", "_")
    path = tmp_path / "units.csv"
    df.to_csv(path, index=False)
    (spec,) = loads_experiments(_table_spec(path, ["control", "new_one", "typo"]))
    with pytest.raises(DataError, match=r"spec variant\(s\) \['typo'\] have no rows"):
        shipit.analyze(spec, DuckDBEngine(":memory:"))


def test_spec_checks_columns_against_its_source() -> None:
    text = _table_spec(Path("u.csv"), ["a", "b"]).replace("column: bought", "event: buy")
    with pytest.raises(SpecError, match="names an event, but the experiment reads a per-unit"):
        loads_experiments(text)
    with pytest.raises(SpecError, match="srm_threshold"):
        loads_experiments(_table_spec(Path("u.csv"), ["a", "b"], srm_threshold=0))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo("three-models", 6_000, tmp_path_factory.mktemp("srm"), seed=5).store


def _experiment() -> Experiment:
    return experiment_for(scenario("three-models").info())


def test_srm_threshold_on_the_experiment_path(store: Path, tmp_path: Path) -> None:
    spec = _experiment()
    base = next(t for t in shipit.analyze(spec, DuckDBEngine(store)).trust if t.name == "srm")
    assert base.status == "pass"
    assert base.p_value is not None
    strict = min(0.99, base.p_value * 2)
    got = shipit.analyze(spec, DuckDBEngine(store), srm_threshold=strict)
    assert next(t for t in got.trust if t.name == "srm").status == "fail"
    planned = spec.model_copy(
        update={"analysis": spec.analysis.model_copy(update={"srm_threshold": strict})}
    )
    path = tmp_path / "spec.yaml"
    path.write_text(dump_experiment(planned))
    for args in ([str(path)], [str(path), "--srm-threshold", "0.001"]):
        out = runner.invoke(app, ["analyze", *args, "--store", str(store), "--format", "json"])
        assert out.exit_code == 0, out.output
        srm = next(t for t in yaml.safe_load(out.output)["trust"] if t["name"] == "srm")
        assert srm["status"] == ("fail" if len(args) == 1 else "pass")


def test_cli_table_errors_are_shipit_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "u.csv"
    _frame(rng, 50).to_csv(path, index=False)
    cases = [
        (["analyze", str(path), "--metric", "revenue"], "--variant-column"),
        (["analyze", str(path), "--variant-column", "arm", "--metric", "amt"], "no column 'amt'"),
        (["analyze", "some-key", "--metric", "revenue"], "per-unit table"),
    ]
    for args, message in cases:
        out = runner.invoke(app, args)
        assert isinstance(out.exception, ShipitError), out.output
        assert message in str(out.exception)

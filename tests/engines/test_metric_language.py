"""The metric language (filters, capping, active days) equals pandas on the raw rows.

Filters are checked by rewriting the events in pandas: the rows an aggregate's filters
keep are copied under an event name of their own, and the oracle aggregates that event
without filters. So the filter logic of the oracle is plain pandas, sharing nothing with
the SQL compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipit.errors import SpecError
from shipit.metrics.run import compute_moments
from shipit.spec.metric import Aggregate, Covariate, Filter, MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

from .conftest import PHASE_START, Dataset, make_dataset
from .test_moments import VARIANTS, assert_same


def with_properties(data: Dataset, seed: int = 11) -> Dataset:
    """The suite's data with a text property (with nulls) and a numeric one on events."""
    rng = np.random.default_rng(seed)
    n = len(data.events)
    events = data.events.assign(
        country=rng.choice(np.array(["fr", "de", "us", None], dtype=object), n),
        device=rng.choice(["ios", "android", "web"], n),
        price=np.round(rng.uniform(0, 100, n), 1),
    )
    return replace(data, events=events)


def _mask(events: pd.DataFrame, f: Filter) -> pd.Series:
    """The rows a filter keeps, in pandas (a comparison never keeps a null)."""
    col = events[f.property]
    present = col.notna()
    v = f.value
    if f.op == "is_null":
        return ~present
    if f.op == "not_null":
        return present
    if f.op == "in":
        return present & col.isin(list(f.listed()))
    if f.op == "not_in":
        return present & ~col.isin(list(f.listed()))
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }
    return present & ops[f.op](col.where(present, 0 if isinstance(v, int | float) else ""), v)


def unfiltered(data: Dataset, metrics: list[MetricDef]) -> tuple[Dataset, list[MetricDef]]:
    """Events with every filtered aggregate's rows copied under a name of its own, and the
    metrics pointing at those names without filters."""
    extra: list[pd.DataFrame] = []

    def moved(part: Any, filters: tuple[Filter, ...], tag: str) -> Any:
        if not filters:
            return part.model_copy(update={"where": ()})
        keep = data.events["event"] == part.event
        for f in filters:
            keep &= _mask(data.events, f)
        name = f"{part.event}__{tag}"
        extra.append(data.events[keep].assign(event=name))
        return part.model_copy(update={"event": name, "where": ()})

    out = []
    for m in metrics:
        update: dict[str, Any] = {"where": ()}
        if m.numerator is not None and m.denominator is not None:
            update["numerator"] = moved(m.numerator, m.where + m.numerator.where, f"{m.name}_n")
            update["denominator"] = moved(
                m.denominator, m.where + m.denominator.where, f"{m.name}_d"
            )
        else:
            update["event"] = moved(m, m.where, m.name).event
        update["covariates"] = tuple(
            moved(c, c.where, f"{m.name}_x{j}") if c.event else c
            for j, c in enumerate(m.covariates)
        )
        out.append(m.model_copy(update=update))
    events = pd.concat([data.events, *extra], ignore_index=True)
    return replace(data, events=events), out


F = Filter
FILTERED = [
    MetricDef(name="fr_revenue", event="purchase", where=[F(property="country", value="fr")]),
    MetricDef(
        name="not_fr",
        event="purchase",
        aggregation="count",
        where=[F(property="country", op="ne", value="fr")],
    ),
    MetricDef(
        name="eu_views",
        event="view",
        aggregation="count",
        where=[F(property="country", op="in", value=["fr", "de"])],
    ),
    MetricDef(
        name="not_eu",
        event="view",
        aggregation="any",
        where=[F(property="country", op="not_in", value=["fr", "de"])],
    ),
    MetricDef(
        name="cheap",
        event="purchase",
        where=[F(property="price", op="lt", value=20), F(property="device", op="eq", value="web")],
    ),
    MetricDef(name="le50", event="purchase", where=[F(property="price", op="le", value=50.0)]),
    MetricDef(
        name="gt50", event="view", aggregation="max", where=[F(property="price", op="gt", value=50)]
    ),
    MetricDef(
        name="ge_item3",
        event="purchase",
        aggregation="count_distinct",
        value="item",
        where=[F(property="item", op="ge", value=3)],
    ),
    MetricDef(
        name="no_country",
        event="view",
        aggregation="count",
        where=[F(property="country", op="is_null")],
    ),
    MetricDef(
        name="has_country",
        event="view",
        aggregation="count",
        where=[F(property="country", op="not_null")],
    ),
    MetricDef(
        name="ios_share",
        numerator=Aggregate(event="purchase", where=[F(property="device", value="ios")]),
        denominator=Aggregate(event="purchase", aggregation="count"),
        where=[F(property="country", op="not_null")],
    ),
    MetricDef(
        name="fr_cuped",
        event="purchase",
        where=[F(property="country", value="fr")],
        covariates=[
            Covariate(name="pre_fr", event="purchase", where=[F(property="country", value="fr")]),
            Covariate(name="pre_spend", column="pre_spend"),
        ],
    ),
]

CAPPED = [
    MetricDef(name="rev_cap", event="purchase", cap={"max": 10}),
    MetricDef(name="views_floor", event="view", aggregation="count", cap={"min": 3}),
    MetricDef(name="views_both", event="view", aggregation="count", cap={"min": 2, "max": 8}),
    MetricDef(
        name="views_w", event="view", aggregation="count", winsorize={"lower": 0.2, "upper": 0.9}
    ),
    MetricDef(name="views_lo", event="view", aggregation="count", winsorize={"lower": 0.3}),
    MetricDef(name="rev_w", event="purchase", winsorize=0.95),
    MetricDef(
        name="rev_cap_w",
        event="purchase",
        cap={"max": 30},
        winsorize={"lower": 0.45, "upper": 0.9},
    ),
    MetricDef(
        name="ratio_capped",
        numerator={"event": "purchase"},
        denominator={"event": "view", "aggregation": "count"},
        cap={"max": 12},
        winsorize={"lower": 0.35},
    ),
]

ACTIVE = [
    MetricDef(name="active_days", event="view", aggregation="active_days"),
    MetricDef(
        name="active_days_fr",
        event="view",
        aggregation="active_days",
        window={"end_hours": 72},
        where=[F(property="country", value="fr")],
    ),
    # Retention on day 1: any event in [24 h, 48 h) after the first exposure.
    MetricDef(
        name="retained_d1",
        event="view",
        aggregation="any",
        window={"start_hours": 24, "end_hours": 48},
    ),
    MetricDef(
        name="active_cuped",
        event="view",
        aggregation="active_days",
        covariates=[{"name": "pre_active", "event": "view", "aggregation": "active_days"}],
    ),
]


# Without count_distinct, by day takes the per-unit change plan (metrics.daily).
SPARSE = [m for m in FILTERED if m.aggregation != "count_distinct"]


@pytest.fixture(scope="module")
def data() -> Dataset:
    return with_properties(make_dataset())


@pytest.fixture(scope="module")
def engine(data: Dataset) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    load(e, "exposures", data.exposures)
    load(e, "events", data.events)
    load(e, "units", data.units)
    return e


@pytest.mark.parametrize("by", [None, "country", "day"])
@pytest.mark.parametrize(
    "metrics",
    [FILTERED, SPARSE, CAPPED, ACTIVE],
    ids=["filters", "filters_sparse", "caps", "active"],
)
def test_language_matches_pandas(
    engine: DuckDBEngine,
    data: Dataset,
    reference: Callable[..., Any],
    metrics: list[MetricDef],
    by: str | None,
) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, metrics, by=by, phase_start=PHASE_START)
    oracle_data, oracle_metrics = unfiltered(data, metrics)
    want = reference(
        oracle_data, "checkout", 1, VARIANTS, oracle_metrics, by=by, phase_start=PHASE_START
    )
    assert_same(got, want)


def test_filters_change_the_numbers(engine: DuckDBEngine) -> None:
    """A guard against a filter silently ignored: fr revenue is below all revenue."""
    plain = MetricDef(name="revenue", event="purchase")
    got = compute_moments(engine, "checkout", 1, VARIANTS, [plain, FILTERED[0]])
    assert (
        got.moments("fr_revenue").matrix[:, 0, 1] < got.moments("revenue").matrix[:, 0, 1]
    ).all()
    assert (got.moments("fr_revenue").matrix[:, 0, 1] > 0).all()


def test_caps_bind(engine: DuckDBEngine, data: Dataset) -> None:
    got = compute_moments(
        engine, "checkout", 1, VARIANTS, [*CAPPED[:1], MetricDef(name="rev", event="purchase")]
    )
    assert (got.moments("rev_cap").matrix[:, 0, 1] < got.moments("rev").matrix[:, 0, 1]).all()
    caps = got.caps
    assert compute_moments(engine, "checkout", 1, VARIANTS, [CAPPED[3]]).caps.keys() == {
        ("views_w", "y"),
        ("views_w", "y:lower"),
    }
    assert caps == {}


def test_missing_property_names_the_metric(engine: DuckDBEngine) -> None:
    bad = MetricDef(name="by_colour", event="view", where=[F(property="colour", value="red")])
    with pytest.raises(SpecError, match=r"metric 'by_colour'.*'colour'.*not a property"):
        compute_moments(engine, "checkout", 1, VARIANTS, [bad])
    cov = MetricDef(
        name="cov_bad",
        event="view",
        covariates=[Covariate(name="x", event="view", where=[F(property="nope", op="is_null")])],
    )
    with pytest.raises(SpecError, match=r"metric 'cov_bad'.*'nope'"):
        compute_moments(engine, "checkout", 1, VARIANTS, [cov])


def test_value_types_are_checked(engine: DuckDBEngine) -> None:
    text_vs_number = MetricDef(name="m", event="view", where=[F(property="price", value="cheap")])
    with pytest.raises(SpecError, match=r"metric 'm'.*'price'.*number"):
        compute_moments(engine, "checkout", 1, VARIANTS, [text_vs_number])
    number_vs_text = MetricDef(name="m", event="view", where=[F(property="country", value=1)])
    with pytest.raises(SpecError, match=r"quote it"):
        compute_moments(engine, "checkout", 1, VARIANTS, [number_vs_text])


def test_injection_attempts_are_values(engine: DuckDBEngine, data: Dataset) -> None:
    """A value that looks like SQL is compared as text; nothing is executed."""
    evil = "fr' OR 1=1 --"
    m = MetricDef(name="evil", event="purchase", where=[F(property="country", value=evil)])
    got = compute_moments(engine, "checkout", 1, VARIANTS, [m])
    assert got.moments("evil").matrix[:, 0, 1].tolist() == [0.0, 0.0]
    drop = MetricDef(
        name="drop",
        event="purchase",
        where=[F(property="country", op="in", value=["fr'); DROP TABLE events; --", "x"])],
    )
    compute_moments(engine, "checkout", 1, VARIANTS, [drop])
    assert engine.query("SELECT COUNT(*) AS n FROM events").to_pydict()["n"][0] == len(data.events)
    quoted = MetricDef(
        name="q", event="view", where=[F(property='country" IS NULL OR "x', op="is_null")]
    )
    with pytest.raises(SpecError, match="not a property"):
        compute_moments(engine, "checkout", 1, VARIANTS, [quoted])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"where": [{"property": "c", "op": "like", "value": "x"}]}, "where.0.op"),
        ({"where": [{"property": "c", "op": "in", "value": "fr"}]}, "non-empty list"),
        ({"where": [{"property": "c", "op": "in", "value": []}]}, "non-empty list"),
        ({"where": [{"property": "c", "op": "eq"}]}, "takes one value"),
        ({"where": [{"property": "c", "op": "is_null", "value": 1}]}, "takes no value"),
        ({"where": [{"property": "c", "value": "x", "sql": "1=1"}]}, "sql"),
        ({"winsorize": {"lower": 0.9, "upper": 0.1}}, "must be below"),
        ({"winsorize": {"lower": 0.5, "upper": 0.5}}, "must be below"),
        ({"winsorize": {}}, "lower, upper or both"),
        ({"winsorize": 0.3}, "greater than 0.5"),
        ({"cap": {"min": 5, "max": 1}}, "must not exceed"),
        ({"cap": {}}, "min, max or both"),
        ({"aggregation": "median"}, "aggregation"),
    ],
)
def test_bad_language_fields_are_named(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricDef(name="m", event="view", **fields)


def test_plain_winsorize_keeps_its_meaning() -> None:
    m = MetricDef(name="m", event="view", winsorize=0.99)
    assert (m.winsorize_lower, m.winsorize_upper) == (None, 0.99)
    assert m.model_dump(exclude_defaults=True)["winsorize"] == 0.99


def test_quantile_of_filtered_events_matches_numpy(engine: DuckDBEngine, data: Dataset) -> None:
    """A quantile metric's observations pass its filters too."""
    from .test_funnel import exposed_units

    m = MetricDef(
        name="p90_fr",
        event="purchase",
        quantile=0.9,
        where=[F(property="country", op="in", value=["fr", "de"])],
    )
    got = compute_moments(engine, "checkout", 1, VARIANTS, [m], phase_start=PHASE_START)
    units = exposed_units(data, PHASE_START)
    ev = data.events[
        (data.events["event"] == "purchase") & data.events["country"].isin(["fr", "de"])
    ]
    ev = ev.merge(units[["unit_id", "first_ts", "variant"]], on="unit_id")
    ev = ev[(ev["timestamp"] >= ev["first_ts"]) & ev["value"].notna()]
    summary = got["p90_fr"]
    for i, v in enumerate(VARIANTS):
        want = np.quantile(ev[ev["variant"] == v]["value"], 0.9)
        assert summary.estimate[i] == pytest.approx(want, abs=1e-9)  # type: ignore[attr-defined]


def test_yaml_errors_name_the_field(tmp_path: Any) -> None:
    from shipit.spec.io import load_metrics

    path = tmp_path / "metrics.yaml"
    path.write_text(
        "- name: fr\n  event: purchase\n  where:\n    - {property: country, op: like, value: fr}\n"
    )
    with pytest.raises(SpecError, match=r"metrics.yaml.*where.*op"):
        load_metrics(path)

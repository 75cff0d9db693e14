"""Numbers that agree wherever they are written: p-values beside α, underflowed p-values,
SRM lines and the ``shipit stats`` tables (issue: reports that tell the truth at a glance)."""

from __future__ import annotations

import io

from rich.console import Console

from shipit.decide import DecisionPolicy, assemble
from shipit.decide.trust import srm_check
from shipit.report.analysis_terminal import to_text
from shipit.report.summaries import data_science
from shipit.report.terminal import render_stats
from shipit.result.model import Analysis, Effect, Estimate


def _est(rel: float, se: float, p: float) -> Estimate:
    return Estimate(
        rel_effect=rel,
        rel_se=se,
        rel_ci_low=rel - 1.96 * se,
        rel_ci_high=rel + 1.96 * se,
        p_value=p,
        abs_effect=rel * 300,
        abs_se=se * 300,
    )


def _analysis(raw_p: float, cuped_p: float | None = None, **kw: object) -> Analysis:
    e = Effect(
        metric="m",
        variant="a",
        control="c",
        raw=_est(0.02, 0.0102, raw_p),
        adjusted=_est(0.02, 0.005, cuped_p) if cuped_p is not None else None,
        n_control=10_000,
        n_variant=10_000,
    )
    return assemble(
        experiment="x",
        control="c",
        variants=["c", "a"],
        policy=DecisionPolicy(primary="m", mde=0.02),
        effects=[e],
        **kw,  # type: ignore[arg-type]
    )


def test_data_science_names_each_p_and_never_rounds_it_onto_alpha() -> None:
    lines = data_science(_analysis(0.0504, 1e-5))
    line = next(x for x in lines if x.startswith("m (a)"))
    assert "raw p = 0.0504" in line  # not "p = 0.05"
    assert "CUPED p = 1e-05" in line


def test_an_underflowed_p_value_is_never_p_equals_zero() -> None:
    a = _analysis(0.0, 0.0)
    text = to_text(a, width=160)
    assert "p = 0 " not in text
    assert "p = 0)" not in text
    assert "p = 0," not in text
    assert "raw p < 1e-300" in text


def test_srm_line_of_a_huge_mismatch_reads_below_the_floor_not_zero() -> None:
    bad = srm_check({"a": 5_000_000, "b": 4_000_000}, {"a": 1, "b": 1})
    assert bad.status == "fail"
    assert "p < 1e-300" in bad.message
    assert "p = 0 " not in bad.message
    near = srm_check({"a": 50_000, "b": 49_000}, {"a": 1, "b": 1}, threshold=0.0015)
    assert "p = 0.0015" not in near.message  # never rounded onto the threshold


def test_stats_tables_write_p_values_through_the_one_formatter() -> None:
    row = {
        "metric": "m",
        "variant": "a",
        "n_control": 10,
        "n_variant": 10,
        "mean_control": 1.0,
        "mean_variant": 2.0,
        "abs_effect": 1.0,
        "abs_ci_low": 0.5,
        "abs_ci_high": 1.5,
        "rel_effect": 1.0,
        "rel_ci_low": 0.5,
        "rel_ci_high": 1.5,
        "p_value": 0.0,
        "p_value_adjusted": 0.0504,
        "significant": True,
        "status": "ok",
    }
    summary = {
        "srm": {"chi2": 1e5, "p_value": 0.0, "mismatch": True},
        "alpha": 0.05,
        "results": [row],
    }
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(render_stats(summary))
    text = console.export_text()
    assert "SRM: χ² = 1e+05, p < 1e-300" in text
    assert "<1e-300" in text
    assert "(0.0504)" in text


def test_a_name_in_brackets_survives_the_terminal() -> None:
    a = _analysis(1e-6, true_effects={"m[content]": 0.02, "m[hybrid]": 0.03})
    text = to_text(a, width=120)
    # the true-effects table and the data-science summary both name each truth in full
    assert text.count("m[content]") == 2
    assert text.count("m[hybrid]") == 2

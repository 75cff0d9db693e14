"""Summaries and section tables that say what the numbers are, in one unit and order."""

from __future__ import annotations

from shipit.decide import DecisionPolicy, GuardrailPolicy, assemble
from shipit.report.sections import build_report
from shipit.report.summaries import executive, product
from shipit.result.model import Analysis, Effect, Estimate, SegmentEffect


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


def _eff(metric: str, variant: str, rel: float, se: float, p: float) -> Effect:
    return Effect(
        metric=metric,
        variant=variant,
        control="c",
        raw=_est(rel, se, p),
        n_control=10_000,
        n_variant=10_000,
    )


def _seg(value: str, rel: float, se: float, p: float, variant: str = "a") -> SegmentEffect:
    return SegmentEffect(
        dimension="tier",
        segment=value,
        metric="m",
        variant=variant,
        n_control=1_000,
        n_variant=1_000,
        estimate=_est(rel, se, p),
    )


def _analysis(policy: DecisionPolicy, effects: list[Effect], **kw: object) -> Analysis:
    variants = ["c", *dict.fromkeys(e.variant for e in effects)]
    return assemble(
        experiment="x", control="c", variants=variants, policy=policy, effects=effects, **kw
    )  # type: ignore[arg-type]


def test_no_guardrails_is_not_all_guardrails_green() -> None:
    a = _analysis(DecisionPolicy(primary="m", mde=0.02), [_eff("m", "a", 0.05, 0.01, 1e-6)])
    risk = next(line for line in executive(a) if line.startswith("Risk:"))
    assert risk == "Risk: no guardrails in the plan, so no harm was tested for"
    guarded = DecisionPolicy(
        primary="m", mde=0.02, guardrails=(GuardrailPolicy(metric="g", margin=0.02),)
    )
    a = _analysis(guarded, [_eff("m", "a", 0.05, 0.01, 1e-6), _eff("g", "a", 0.0, 0.005, 1.0)])
    assert "Risk: all guardrails green" in executive(a)


def test_heterogeneity_lines_name_the_variant_and_rank_by_the_relative_effect() -> None:
    # "1" has the biggest relative effect but the largest SE, so the smallest |z|:
    # it is the strongest by the effect printed beside it, not by z
    segs = [
        _seg(v, rel, se, p, variant)
        for variant in ("a", "b")
        for v, rel, se, p in (("1.0", 0.20, 0.08, 0.01), ("2.0", 0.05, 0.005, 1e-20))
    ]
    effects = [_eff("m", v, 0.01, 0.01, 0.3) for v in ("a", "b")]
    a = _analysis(DecisionPolicy(primary="m", mde=0.02), effects, segments=segs)
    lines = [line for line in product(a) if "Cochran" in line]
    assert len(lines) == 2
    assert lines[0].startswith("tier (a): effects ")
    assert lines[1].startswith("tier (b): effects ")
    assert all("strongest 1, weakest 2 (by relative effect)" in line for line in lines)


def test_numeric_segments_read_as_integers_in_numeric_order() -> None:
    segs = [_seg(v, 0.01 * i, 0.01, 0.5) for i, v in enumerate(["1.0", "10.0", "2.0", "2.5"], 1)]
    a = _analysis(
        DecisionPolicy(primary="m", mde=0.02),
        [_eff("m", "a", 0.01, 0.01, 0.3)],
        segments=segs,
    )
    shown = [line.split(" (a)")[0] for line in product(a) if line.startswith("tier=")]
    assert shown == ["tier=1", "tier=2", "tier=2.5", "tier=10"]
    table = build_report(a).section("segments")
    assert table is not None
    assert [row[2] for row in table.tables[0].rows] == ["1", "2", "2.5", "10"]


def test_a_p_value_just_above_alpha_does_not_read_as_alpha_in_the_summary() -> None:
    segs = [_seg("x", 0.05, 0.02, 0.01), _seg("y", 0.0, 0.02, 0.9)]
    a = _analysis(
        DecisionPolicy(primary="m", mde=0.02),
        [_eff("m", "a", 0.01, 0.01, 0.3)],
        segments=segs,
    )
    h = a.heterogeneity[0]
    p = h.p_value
    assert p is not None
    line = next(line for line in product(a) if "Cochran" in line)
    assert line.startswith("tier (a): effects " + ("differ" if p < 0.05 else "do not differ"))
    b = a.model_copy(update={"heterogeneity": (h.model_copy(update={"p_value": 0.0504}),)})
    line = next(line for line in product(b) if "Cochran" in line)
    assert "do not differ detectably (Cochran's Q p = 0.0504)" in line
    het = build_report(b).section("segments")
    assert het is not None
    assert het.tables[1].rows[0][5] == "0.0504"


def test_the_effects_table_states_its_interval_level_and_the_lights() -> None:
    a = _analysis(DecisionPolicy(primary="m", mde=0.02), [_eff("m", "a", 0.05, 0.01, 1e-6)])
    effects = build_report(a).section("effects")
    assert effects is not None
    caption = effects.tables[0].caption
    assert caption is not None
    assert "95% intervals" in caption
    assert "guardrail lights use 90% intervals" in caption


def test_true_effects_read_as_percentages_unless_recorded_absolute() -> None:
    a = _analysis(
        DecisionPolicy(primary="m", mde=0.02),
        [_eff("m", "a", 0.05, 0.01, 1e-6)],
        true_effects={"m": 0.07, "load_ms": 12.5},
        true_effects_absolute=("load_ms",),
    )
    truth = build_report(a).section("truth")
    assert truth is not None
    assert truth.tables[0].rows == (("load_ms", "+12.5 (abs.)"), ("m", "+7.00%"))
    line = next(s for s in build_report(a).sections if s.key == "for-data-science").items[-1]
    assert line.text == "true effects (simulation): load_ms +12.5 (abs.), m +7.00%"

"""Guardrails as non-inferiority tests against a margin, shown as traffic lights.

For a metric where higher is better and a margin m (the worst acceptable drop), the
effect θ is judged against −m: green when H0 θ ≤ −m is rejected (non-inferior), red when
H0 θ ≥ −m is rejected (significantly worse than the margin), yellow otherwise (the
interval crosses the margin). Lower-is-better metrics mirror this around +m. Both tests are
one-sided at ``alpha`` and read off the 1 − 2α interval.
"""

from __future__ import annotations

from shipit.decide.policy import GuardrailPolicy
from shipit.errors import InputError
from shipit.result import format as fmt
from shipit.result.model import Effect, GuardrailResult
from shipit.stats.normal import normal_cdf, normal_quantile, normal_sf

__all__ = ["check_guardrail", "guardrail_light"]


def guardrail_light(
    estimate: float, se: float, margin: float, *, higher_is_better: bool, alpha: float = 0.05
) -> tuple[str, float, float, float, float]:
    """(light, p non-inferior, p worse, interval low, interval high) for one guardrail."""
    if margin < 0:
        raise InputError(f"a guardrail margin must be ≥ 0, got {margin}")
    if not se > 0:
        return "yellow", float("nan"), float("nan"), float("nan"), float("nan")
    bound = -margin if higher_is_better else margin
    z = (estimate - bound) / se
    # "Good side" of the margin is above it when higher is better, below it otherwise.
    p_ni = normal_sf(z) if higher_is_better else normal_cdf(z)
    p_worse = normal_cdf(z) if higher_is_better else normal_sf(z)
    q = normal_quantile(1 - alpha)
    lo, hi = estimate - q * se, estimate + q * se
    light = "green" if p_ni < alpha else "red" if p_worse < alpha else "yellow"
    return light, p_ni, p_worse, lo, hi


def check_guardrail(
    effect: Effect, policy: GuardrailPolicy, *, alpha: float = 0.05
) -> GuardrailResult:
    """Judge one metric's effect (CUPED-adjusted when present) against its guardrail."""
    est = effect.best
    value = est.rel_effect if policy.relative else est.abs_effect
    se = est.rel_se if policy.relative else est.abs_se
    name = f"{policy.metric} ({effect.variant})"
    if value is None or se is None:
        return GuardrailResult(
            metric=policy.metric,
            variant=effect.variant,
            margin=policy.margin,
            relative=policy.relative,
            higher_is_better=effect.higher_is_better,
            light="yellow",
            message=f"{name}: no estimate ({est.status}); cannot rule out harm",
        )
    light, p_ni, p_worse, lo, hi = guardrail_light(
        value, se, policy.margin, higher_is_better=effect.higher_is_better, alpha=alpha
    )

    def num(x: float) -> str:
        return fmt.pct(x) if policy.relative else fmt.signed(x)

    limit = -policy.margin if effect.higher_is_better else policy.margin
    # The light reads two one-sided tests at alpha: the interval shown is their 1 - 2α one.
    level = fmt.share(1 - 2 * alpha, 0)
    unit = "" if policy.relative else " (abs.)"  # an absolute margin is in the metric's unit
    ci = f"{num(value)} [{level} interval {num(lo)}, {num(hi)}]{unit}"
    margin = f"the {num(limit)} margin"
    if light == "green":
        p_txt = fmt.p_equals(p_ni, "non-inferiority p", alpha)
        msg = f"{name}: {ci} stays within {margin} ({p_txt})"
    elif light == "red":
        p_txt = fmt.p_equals(p_worse, "p", alpha)
        msg = f"{name}: {ci} is significantly worse than {margin} ({p_txt})"
    else:
        p_txt = fmt.p_equals(p_ni, "non-inferiority p", alpha)
        msg = f"{name}: {ci} crosses {margin}, inconclusive ({p_txt})"
    return GuardrailResult(
        metric=policy.metric,
        variant=effect.variant,
        margin=policy.margin,
        relative=policy.relative,
        higher_is_better=effect.higher_is_better,
        estimate=value,
        ci_low=lo,
        ci_high=hi,
        p_non_inferior=p_ni,
        p_worse=p_worse,
        light=light,  # type: ignore[arg-type]
        message=msg,
    )

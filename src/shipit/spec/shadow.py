"""The ``shadow:`` block: a candidate model run beside production on the same requests.

Production serves every unit; the candidate's output for each request is logged, never
served. The block says which variant is which, what kind of output the models give
(a score, a label or a ranking), when two outputs agree, and which later event carries the
true label for offline metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from shipit.spec._problems import Loc
    from shipit.spec.experiment import Experiment

__all__ = [
    "LATENCY_QUANTILES",
    "OFFLINE_METRICS",
    "OfflineMetric",
    "OutputKind",
    "ShadowLabel",
    "ShadowSpec",
    "shadow_problems",
]

OutputKind = Literal["score", "label", "ranking"]
OfflineMetric = Literal["accuracy", "mse", "log_loss", "hit_rate"]
# Which offline metrics each output kind can have against its label.
OFFLINE_METRICS: dict[str, tuple[str, ...]] = {
    "score": ("accuracy", "mse", "log_loss"),
    "label": ("accuracy",),
    "ranking": ("hit_rate",),
}
LATENCY_QUANTILES = (0.5, 0.95, 0.99)
_NAME = Field(min_length=1, max_length=200)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ShadowLabel(_Frozen):
    """The event that brings a request's true label later: its ``value`` (numeric labels)
    or its text property ``property`` (class labels, the relevant item of a ranking), tied
    to the request by the event property ``request_property``."""

    event: str = _NAME
    property: str | None = Field(default=None, min_length=1, max_length=64)
    request_property: str = Field(default="request_id", min_length=1, max_length=64)


class ShadowSpec(_Frozen):
    """Which variant serves (``production``, default the control) and which is logged
    beside it (``candidate``, default the other variant), and how their outputs compare.

    Scores agree when they differ by at most ``tolerance``; labels when equal; rankings
    when their top ``top_k`` items share at least ``min_overlap`` of the items. A score is
    read as the positive class when it is at least ``threshold`` (accuracy).
    """

    production: str | None = Field(default=None, min_length=1, max_length=200)
    candidate: str | None = Field(default=None, min_length=1, max_length=200)
    output: OutputKind = "score"
    tolerance: float = Field(default=0.0, ge=0)
    threshold: float = 0.5
    top_k: int = Field(default=10, ge=1, le=1000)
    min_overlap: float = Field(default=1.0, gt=0, le=1)
    label: ShadowLabel | None = None
    metrics: tuple[OfflineMetric, ...] = ()
    histogram_bins: int = Field(default=20, ge=2, le=200)
    latency_quantiles: tuple[float, ...] = LATENCY_QUANTILES

    @field_validator("latency_quantiles")
    @classmethod
    def _probabilities(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        bad = [q for q in value if not 0 < q < 1]
        if bad:
            raise ValueError(f"quantiles are between 0 and 1 (exclusive), got {bad[0]}")
        return value

    def offline_metrics(self) -> tuple[str, ...]:
        """The offline metrics to compute: those asked for, else every one of the output
        kind (none without a label event)."""
        if self.label is None:
            return ()
        return self.metrics or OFFLINE_METRICS[self.output]


def roles(exp: Experiment) -> tuple[str, str]:
    """The production and candidate variant keys of a (valid) shadow experiment."""
    assert exp.shadow is not None
    production = exp.shadow.production or exp.control_variant
    others = [v for v in exp.variant_keys if v != production]
    return production, exp.shadow.candidate or others[0]


def serving_weights(exp: Experiment) -> tuple[float, ...]:
    """The weights assignment uses: the spec's, or for a shadow experiment all of the
    traffic on production (the candidate is never served)."""
    if exp.type != "shadow" or exp.shadow is None:
        return exp.weights
    production, _ = roles(exp)
    return tuple(1.0 if v == production else 0.0 for v in exp.variant_keys)


def shadow_problems(exp: Experiment) -> list[tuple[Loc, str]]:
    """Cross-field rules of the shadow block, each with its path."""
    out: list[tuple[Loc, str]] = []
    block = exp.shadow
    if exp.type == "shadow" and block is None:
        return [(("shadow",), "required when type is 'shadow' (production, candidate, output)")]
    if block is None:
        return out
    if exp.type != "shadow":
        return [(("shadow",), f"a shadow block needs type: shadow (type is {exp.type!r})")]
    keys = list(exp.variant_keys)
    for field in ("production", "candidate"):
        value = getattr(block, field)
        if value is not None and value not in keys:
            out.append((("shadow", field), f"unknown variant {value!r}; variants are {keys}"))
    if out:
        return out
    production = block.production or exp.control_variant
    if block.production is not None and production != exp.control_variant:
        out.append(
            (
                ("shadow", "production"),
                f"production {production!r} must be the control ({exp.control_variant!r}): "
                "set control to it, or leave production out",
            )
        )
    others = [v for v in keys if v != production]
    if block.candidate is None and len(others) != 1:
        out.append((("shadow", "candidate"), f"required with {len(keys)} variants: name one"))
    if block.candidate is not None and block.candidate == production:
        out.append((("shadow", "candidate"), f"{block.candidate!r} is already production"))
    for unit, variant in exp.forced.items():
        if variant != production:
            out.append(
                (
                    ("forced", unit),
                    f"a shadow experiment serves production only; {variant!r} cannot be forced",
                )
            )
    allowed = OFFLINE_METRICS[block.output]
    for i, metric in enumerate(block.metrics):
        if metric not in allowed:
            out.append(
                (
                    ("shadow", "metrics", i),
                    f"{metric!r} does not apply to {block.output} outputs (use {list(allowed)})",
                )
            )
    if block.label is not None and block.output != "score" and block.label.property is None:
        out.append(
            (
                ("shadow", "label", "property"),
                f"required for {block.output} outputs: the event property holding the label",
            )
        )
    if block.metrics and block.label is None:
        out.append((("shadow", "label"), "required for offline metrics: the label event"))
    return out

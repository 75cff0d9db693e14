"""The ``shipit stats`` input contract: a JSON-ready dict parsed into typed, checked inputs.

Every metric becomes a ``MetricInput`` whose ``Moments`` hold one group per variant with
the value columns of its kind (``y`` for proportion and mean, ``num`` and ``den`` for ratio)
followed by optional pre-period covariates ``x1..xk``. Method-specific keys (priors,
sequential settings) stay readable in ``raw``. Bad input raises ``InputError`` naming the
metric, the variant and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np

from shipit._types import Alternative, FloatArray, Method, MetricKind
from shipit.errors import InputError
from shipit.stats.moments import Moments
from shipit.stats.multiple import CORRECTIONS
from shipit.stats.srm import DEFAULT_THRESHOLD

__all__ = [
    "VALUE_COLUMNS",
    "MetricInput",
    "SrmInput",
    "StatsInput",
    "parse_metric",
    "parse_stats_input",
    "parse_variant_moments",
]

KINDS: tuple[str, ...] = get_args(MetricKind)
ALTERNATIVES: tuple[str, ...] = get_args(Alternative)
METHODS: tuple[str, ...] = get_args(Method)
# Value columns of z per metric kind (covariates x1..xk follow them).
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "proportion": ("y",),
    "mean": ("y",),
    "ratio": ("num", "den"),
}
# Relative tolerance for sums of squares that imply a slightly negative variance by rounding.
_TOL = 1e-9


@dataclass(frozen=True)
class SrmInput:
    """Unit counts per variant and the planned weights (normalized to sum to 1)."""

    variants: tuple[str, ...]
    counts: FloatArray
    weights: FloatArray
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class MetricInput:
    """One metric's per-variant moments; the control is one of ``moments.labels``."""

    name: str
    kind: str
    control: str
    moments: Moments
    alternative: str
    margin: float | None = None
    relative_margin: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def variants(self) -> tuple[str, ...]:
        """Every variant of the metric, in input order (control included)."""
        return self.moments.labels

    @property
    def treatments(self) -> tuple[str, ...]:
        """The variants compared with the control, in input order."""
        return tuple(v for v in self.variants if v != self.control)

    @property
    def covariates(self) -> tuple[str, ...]:
        """Names of the covariate columns (``x1..xk``), empty without covariates."""
        return self.moments.names[len(VALUE_COLUMNS[self.kind]) :]


@dataclass(frozen=True)
class StatsInput:
    """A whole ``shipit stats`` request, checked."""

    alpha: float
    alternative: str
    correction: str
    method: str
    srm: SrmInput | None
    metrics: tuple[MetricInput, ...]
    raw: Mapping[str, Any] = field(default_factory=dict)


# --- field readers ----------------------------------------------------------------------


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise InputError(f"{where}: field {key!r} is missing")
    return obj[key]


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: field {key!r} must be a finite number, got {value!r}")
    return float(value)


def _count(value: Any, where: str, key: str) -> float:
    x = _number(value, where, key)
    if x < 0 or x != int(x):
        raise InputError(f"{where}: field {key!r} must be a whole number ≥ 0, got {value!r}")
    return x


def _mapping(value: Any, where: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: field {key!r} must be an object")
    return value


def _choice(obj: Mapping[str, Any], key: str, default: str, options: Sequence[str]) -> str:
    value = obj.get(key, default)
    if value not in options:
        raise InputError(f"field {key!r} is {value!r}: expected one of {', '.join(options)}")
    return str(value)


def _vector(value: Any, k: int | None, where: str, key: str) -> FloatArray:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InputError(f"{where}: field {key!r} must be a list of numbers")
    out = np.array([_number(v, where, key) for v in value], dtype=np.float64)
    if k is not None and out.size != k:
        raise InputError(f"{where}: field {key!r} has {out.size} values, expected {k}")
    return out


def _check_psd(cov: FloatArray, scale: FloatArray, where: str, names: Sequence[str]) -> None:
    """Raise if centered sums of squares imply a negative variance (beyond rounding)."""
    for i, name in enumerate(names):
        if cov[i, i] < -_TOL * max(scale[i, i], 1.0):
            raise InputError(
                f"{where}: field {name!r} is smaller than its sum squared over n "
                "(a negative variance): check the sums"
            )
    for i in range(len(names)):
        for j in range(i):
            bound = math.sqrt(max(cov[i, i], 0.0) * max(cov[j, j], 0.0))
            if abs(cov[i, j]) > bound + _TOL * max(abs(scale[i, j]), 1.0) * 10:
                raise InputError(
                    f"{where}: fields {names[j]!r} and {names[i]!r} imply a correlation "
                    "beyond ±1: check the cross sums"
                )


# --- per-variant moments ----------------------------------------------------------------


def parse_variant_moments(
    kind: str, raw: Mapping[str, Any], where: str
) -> tuple[float, FloatArray, FloatArray]:
    """n, Σz and Σzzᵀ of one variant (z = value columns of ``kind``, then covariates)."""
    n = _count(_get(raw, "n", where), where, "n")
    if kind == "proportion":
        s = _number(_get(raw, "sum", where), where, "sum")
        if s < 0 or s > n:
            raise InputError(f"{where}: field 'sum' must lie in [0, n] = [0, {n:g}], got {s:g}")
        sums, cross = np.array([s]), np.array([[s]])
        sq_names: list[str] = ["sum"]
    elif kind == "mean":
        s = _number(_get(raw, "sum", where), where, "sum")
        sq = _number(_get(raw, "sum_sq", where), where, "sum_sq")
        sums, cross = np.array([s]), np.array([[sq]])
        sq_names = ["sum_sq"]
    else:
        keys = ("num_sum", "den_sum", "num_sum_sq", "den_sum_sq", "num_den_sum")
        ns, ds, nsq, dsq, nd = (_number(_get(raw, k, where), where, k) for k in keys)
        sums, cross = np.array([ns, ds]), np.array([[nsq, nd], [nd, dsq]])
        sq_names = ["num_sum_sq", "den_sum_sq"]
    sums, cross = _with_covariates(kind, raw, where, sums, cross)
    if n > 0:
        centered = cross - np.outer(sums, sums) / n
        names = sq_names + [f"cov_sq[{i}]" for i in range(len(sums) - len(sq_names))]
        _check_psd(centered, np.abs(cross) + np.abs(np.outer(sums, sums)) / n, where, names)
    elif np.any(sums != 0) or np.any(cross != 0):
        raise InputError(f"{where}: n is 0 but the sums are not")
    return n, sums, cross


def _with_covariates(
    kind: str, raw: Mapping[str, Any], where: str, sums: FloatArray, cross: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Append covariates x1..xk from ``cov_sums``, ``cov_sq`` and the cross sums with the
    value columns: ``cov_y`` (Σxi·y) for mean and proportion, ``cov_num`` (Σxi·num) and
    ``cov_den`` (Σxi·den) for ratio metrics."""
    cross_keys = ("cov_num", "cov_den") if kind == "ratio" else ("cov_y",)
    other = ("cov_y",) if kind == "ratio" else ("cov_num", "cov_den")
    keys = ("cov_sums", "cov_sq", *cross_keys)
    for key in other:
        if key in raw:
            raise InputError(
                f"{where}: field {key!r} does not apply to a {kind} metric "
                f"(its covariates take {', '.join(keys)})"
            )
    present = [k for k in keys if k in raw]
    if not present:
        return sums, cross
    missing = [k for k in keys if k not in raw]
    if missing:
        raise InputError(f"{where}: field {missing[0]!r} is missing (covariates need {keys})")
    cs = _vector(raw["cov_sums"], None, where, "cov_sums")
    k = cs.size
    if k == 0:
        raise InputError(f"{where}: field 'cov_sums' is empty")
    with_values = np.vstack([_vector(raw[key], k, where, key) for key in cross_keys])
    rows = raw["cov_sq"]
    if not isinstance(rows, Sequence) or len(rows) != k:
        raise InputError(f"{where}: field 'cov_sq' must be a {k}×{k} list of lists")
    cxx = np.vstack([_vector(r, k, where, "cov_sq") for r in rows])
    if np.any(np.abs(cxx - cxx.T) > _TOL * np.abs(cxx.T)):
        raise InputError(f"{where}: field 'cov_sq' must be symmetric")
    p = sums.size  # value columns: y, or num and den
    full = np.empty((p + k, p + k))
    full[:p, :p], full[:p, p:], full[p:, :p], full[p:, p:] = cross, with_values, with_values.T, cxx
    return np.concatenate([sums, cs]), full


# --- metrics and the whole input --------------------------------------------------------


def parse_metric(
    raw: Any,
    index: int,
    *,
    variants: Sequence[str] | None = None,
    control: str | None = None,
    alternative: str = "two-sided",
) -> MetricInput:
    """One entry of ``metrics``; ``variants`` (if given) is the set every metric must have."""
    where = f"metrics[{index}]"
    obj = _mapping(raw, "input", where)
    name = _get(obj, "name", where)
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: field 'name' must be a non-empty string")
    where = f"metric {name!r}"
    kind = _get(obj, "kind", where)
    if kind not in KINDS:
        raise InputError(f"{where}: field 'kind' is {kind!r}: expected one of {', '.join(KINDS)}")
    per_variant = _mapping(_get(obj, "variants", where), where, "variants")
    labels = tuple(str(v) for v in per_variant)
    if variants is not None:
        for v in variants:
            if v not in per_variant:
                raise InputError(f"{where}, variant {v!r}: missing (every metric needs {variants})")
        for v in labels:
            if v not in variants:
                raise InputError(f"{where}, variant {v!r}: unknown (expected {list(variants)})")
    if len(labels) < 2:
        raise InputError(f"{where}: field 'variants' needs at least two variants")
    ctrl = obj.get("control", control) or labels[0]
    if ctrl not in per_variant:
        raise InputError(f"{where}: field 'control' is {ctrl!r}, not one of {list(labels)}")
    parsed = [
        parse_variant_moments(kind, _mapping(per_variant[v], where, v), f"{where}, variant {v!r}")
        for v in labels
    ]
    widths = {s.size for _, s, _ in parsed}
    if len(widths) > 1:
        raise InputError(f"{where}: every variant needs the same number of covariates")
    value_cols = VALUE_COLUMNS[kind]
    k = widths.pop() - len(value_cols)
    names = (*value_cols, *(f"x{i + 1}" for i in range(k)))
    moments = Moments.from_sums(
        labels,
        names,
        np.array([n for n, _, _ in parsed]),
        np.stack([s for _, s, _ in parsed]),
        np.stack([c for _, _, c in parsed]),
    )
    alt = obj.get("alternative", alternative)
    if alt not in ALTERNATIVES:
        raise InputError(f"{where}: field 'alternative' is {alt!r}: expected one of {ALTERNATIVES}")
    margin = obj.get("margin")
    if margin is not None:
        margin = _number(margin, where, "margin")
        if alt == "two-sided" or margin < 0:
            raise InputError(f"{where}: field 'margin' needs a one-sided alternative and ≥ 0")
    return MetricInput(
        name=name,
        kind=kind,
        control=str(ctrl),
        moments=moments,
        alternative=str(alt),
        margin=margin,
        relative_margin=bool(obj.get("relative_margin", False)),
        raw=obj,
    )


def _parse_srm(raw: Any) -> SrmInput:
    obj = _mapping(raw, "input", "srm")
    counts = _mapping(_get(obj, "counts", "srm"), "srm", "counts")
    weights = _mapping(obj.get("weights") or dict.fromkeys(counts, 1.0), "srm", "weights")
    labels = tuple(str(v) for v in counts)
    for v in weights:
        if v not in counts:
            raise InputError(f"srm, variant {v!r}: field 'counts' has no count for it")
    c = [_count(_get(counts, v, "srm"), f"srm, variant {v!r}", "counts") for v in labels]
    w = [
        _number(_get(weights, v, "srm: field 'weights'"), f"srm, variant {v!r}", "weights")
        for v in labels
    ]
    if len(labels) < 2 or any(x <= 0 for x in w):
        raise InputError("srm: needs at least two variants, each with a weight > 0")
    threshold = _number(obj.get("threshold", DEFAULT_THRESHOLD), "srm", "threshold")
    if not 0.0 < threshold < 1.0:
        raise InputError(f"srm: field 'threshold' must lie in (0, 1), got {threshold}")
    wa = np.array(w)
    return SrmInput(labels, np.array(c), wa / wa.sum(), threshold)


def parse_stats_input(data: Any) -> StatsInput:
    """Check and type a whole request (the parsed JSON of ``shipit stats``)."""
    obj = _mapping(data, "input", "(top level)")
    alpha = _number(obj.get("alpha", 0.05), "input", "alpha")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"input: field 'alpha' must lie in (0, 1), got {alpha}")
    alternative = _choice(obj, "alternative", "two-sided", ALTERNATIVES)
    correction = _choice(obj, "correction", "holm", CORRECTIONS)
    method = _choice(obj, "method", "frequentist", METHODS)
    srm = _parse_srm(obj["srm"]) if obj.get("srm") is not None else None
    raw_metrics = _get(obj, "metrics", "input")
    if not isinstance(raw_metrics, Sequence) or isinstance(raw_metrics, str):
        raise InputError("input: field 'metrics' must be a list")
    control = obj.get("control")
    if control is not None and not isinstance(control, str):
        raise InputError("input: field 'control' must be a variant name")
    metrics: list[MetricInput] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_metrics):
        ref = metrics[0].variants if metrics else (srm.variants if srm else None)
        m = parse_metric(raw, i, variants=ref, control=control, alternative=alternative)
        if m.name in names:
            raise InputError(f"metric {m.name!r}: the name is used twice")
        names.add(m.name)
        metrics.append(m)
    return StatsInput(alpha, alternative, correction, method, srm, tuple(metrics), obj)

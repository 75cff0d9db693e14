"""Experiment and Variant: who is randomized, into what, where, and how it will be judged."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipit.spec._problems import Loc, SpecValidationError
from shipit.spec.bandit import BanditSpec, bandit_problems
from shipit.spec.design import Design
from shipit.spec.guardrail import Guardrail
from shipit.spec.interleaving import InterleavingSpec, interleaving_problems
from shipit.spec.limits import check_raw
from shipit.spec.metric import MetricDef
from shipit.spec.monitoring import Monitoring
from shipit.spec.plan import AnalysisPlan
from shipit.spec.shadow import ShadowSpec, shadow_problems
from shipit.spec.source import TableSource
from shipit.spec.tables import TableMaps
from shipit.spec.targeting import Condition

__all__ = ["Experiment", "ExperimentType", "Holdout", "Namespace", "Variant"]

# What kind of experiment: a fixed-split A/B/n test, an adaptive bandit, an interleaving of two
# rankers, or a shadow run of a candidate model beside production.
ExperimentType = Literal["ab", "bandit", "interleaving", "shadow"]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
# Column sizes of the registry (PostgreSQL enforces them): keys and units 200, salts 400.
MAX_KEY = 200
MAX_SALT = 400
# Weights summing to 1 within this are accepted and normalised (1/3 may be typed 0.333333).
WEIGHT_TOLERANCE = 1e-6


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False
    )


class Variant(_Frozen):
    """One variant and its share of the enrolled traffic."""

    # Variant keys are data (they are stored, reported and compared as given): any
    # printable text, spaces included, that is not blank.
    key: str = Field(min_length=1, max_length=MAX_KEY)
    weight: float = Field(ge=0, le=1)
    name: str = ""
    description: str = ""

    @field_validator("key")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a variant key cannot be blank")
        if not value.isprintable():
            bad = next(c for c in value if not c.isprintable())
            raise ValueError(
                f"a variant key is printable text; {value!r} holds the control character {bad!r}"
            )
        return value


class Namespace(_Frozen):
    """A layer for mutual exclusion: the experiment takes units whose namespace hash falls in
    ``range`` = [start, end). The namespace hash uses ``salt`` (default ``namespace:<name>``),
    shared by every experiment in the namespace."""

    name: str = Field(min_length=1, max_length=MAX_KEY)
    range: tuple[float, float] = (0.0, 1.0)
    salt: str | None = Field(default=None, max_length=MAX_SALT)

    @field_validator("range")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        start, end = value
        if not 0.0 <= start < end <= 1.0:
            raise ValueError(f"range must satisfy 0 <= start < end <= 1, got [{start}, {end}]")
        return value

    @property
    def hash_salt(self) -> str:
        """The salt of the namespace hash."""
        return self.salt if self.salt is not None else f"namespace:{self.name}"

    def overlaps(self, other: Namespace) -> bool:
        """Whether both claim a common slice of the same namespace.

        Ranges of one namespace hashed with different salts do not keep units apart (each
        range is a slice of a different hash), so they always overlap.
        """
        if self.name != other.name:
            return False
        if self.hash_salt != other.hash_salt:
            return True
        return self.range[0] < other.range[1] and other.range[0] < self.range[1]


class Holdout(_Frozen):
    """A group kept out of this (and every experiment sharing the holdout ``name``): units whose
    holdout hash (salt default ``holdout:<name>``) is below ``fraction``."""

    name: str = Field(min_length=1, max_length=MAX_KEY)
    fraction: float = Field(gt=0, lt=1)
    salt: str | None = Field(default=None, max_length=MAX_SALT)

    @property
    def hash_salt(self) -> str:
        """The salt of the holdout hash."""
        return self.salt if self.salt is not None else f"holdout:{self.name}"


class Experiment(_Frozen):
    """Everything needed to run and judge one experiment.

    The control is ``control`` or else the first variant. ``metrics`` holds definitions written
    in the spec; ``shared_metrics`` those loaded from ``metrics_files`` (the loader fills it).
    """

    key: str = Field(min_length=1, max_length=MAX_KEY, pattern=KEY_PATTERN)
    name: str = ""
    hypothesis: str = ""
    owner: str = ""
    unit: str = Field(default="user_id", min_length=1, max_length=MAX_KEY)
    salt: str | None = Field(default=None, max_length=MAX_SALT)
    hash_version: int = Field(default=1, ge=1, le=2)
    variants: tuple[Variant, ...] = Field(min_length=2)
    control: str | None = None
    traffic: float = Field(default=1.0, gt=0, le=1)
    namespace: Namespace | None = None
    targeting: Condition | None = None
    exclude: tuple[str, ...] = ()
    forced: dict[str, str] = Field(default_factory=dict)
    holdout: Holdout | None = None
    kill_switch: bool = False
    metrics_files: tuple[str, ...] = ()
    metrics: tuple[MetricDef, ...] = ()
    shared_metrics: tuple[MetricDef, ...] = ()
    primary_metric: str | None = None
    secondary_metrics: tuple[str, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    analysis: AnalysisPlan = AnalysisPlan()
    # A per-unit table instead of the event store (metrics then name columns).
    source: TableSource | None = None
    # Tables already in the engine, read in place through a column mapping (docs/data.md).
    tables: TableMaps = TableMaps()
    start: date | None = None
    end: date | None = None
    monitoring: Monitoring | None = None
    # How units are randomized (stratified, blocked, cluster, switchback; default: by unit).
    design: Design | None = None
    type: ExperimentType = "ab"
    bandit: BanditSpec | None = None
    # Interleaving experiments: how the two rankers are merged and credited.
    interleaving: InterleavingSpec | None = None
    # Which variant serves and which runs beside it (type shadow only).
    shadow: ShadowSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _raw_limits(cls, data: Any) -> Any:
        check_raw(data)
        return data

    @field_validator("variants")
    @classmethod
    def _normalised(cls, value: tuple[Variant, ...]) -> tuple[Variant, ...]:
        """Weights within ``WEIGHT_TOLERANCE`` of summing to 1 are scaled to sum to 1."""
        total = sum(v.weight for v in value)
        if abs(total - 1.0) > 1e-12 and _sums_to_one(total):  # idempotent: no ulp games
            return tuple(v.model_copy(update={"weight": v.weight / total}) for v in value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        problems = _problems(self)
        if problems:
            raise SpecValidationError(problems)
        return self

    @property
    def control_variant(self) -> str:
        """The key of the control variant."""
        return self.control if self.control is not None else self.variants[0].key

    @property
    def hash_salt(self) -> str:
        """The salt of the variant hash (default: the key)."""
        return self.salt if self.salt is not None else self.key

    @property
    def variant_keys(self) -> tuple[str, ...]:
        """Variant keys in spec order."""
        return tuple(v.key for v in self.variants)

    @property
    def weights(self) -> tuple[float, ...]:
        """Variant weights in spec order."""
        return tuple(v.weight for v in self.variants)

    def metric(self, name: str) -> MetricDef:
        """The definition of a metric this experiment knows (inline or shared)."""
        return self.metric_defs()[name]

    def metric_defs(self) -> dict[str, MetricDef]:
        """All metric definitions by name: shared first, then inline ones."""
        return {m.name: m for m in (*self.shared_metrics, *self.metrics)}

    def to_dict(self, *, with_shared: bool = False) -> dict[str, Any]:
        """JSON-ready mapping with defaults left out; shared metrics only when asked (the
        spec file names their files instead)."""
        exclude = None if with_shared or not self.metrics_files else {"shared_metrics"}
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude=exclude)


def _sums_to_one(total: float) -> bool:
    """Whether weights summing to ``total`` sum to 1 within ``WEIGHT_TOLERANCE`` (and the
    rounding of the sum itself: 3 × 0.333333 is 1e-6 short, give or take an ulp)."""
    return abs(total - 1.0) <= WEIGHT_TOLERANCE + 1e-12


def _problems(exp: Experiment) -> list[tuple[Loc, str]]:
    """Cross-field rules, each reported with its path."""
    out: list[tuple[Loc, str]] = []
    keys = [v.key for v in exp.variants]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            out.append((("variants", i, "key"), f"duplicate variant key {key!r}"))
    total = sum(v.weight for v in exp.variants)
    if not _sums_to_one(total):
        shown = " + ".join(f"{v.weight:g}" for v in exp.variants)
        out.append((("variants",), f"weights must sum to 1, got {shown} = {total:.9g}"))
    if exp.control is not None and exp.control not in keys:
        out.append((("control",), f"unknown variant {exp.control!r}; variants are {keys}"))
    for unit, variant in exp.forced.items():
        if variant not in keys:
            out.append((("forced", unit), f"unknown variant {variant!r}; variants are {keys}"))
    seen: dict[str, str] = {}
    for field in ("shared_metrics", "metrics"):
        for i, m in enumerate(getattr(exp, field)):
            if m.name in seen:
                out.append(
                    ((field, i, "name"), f"metric {m.name!r} is already defined in {seen[m.name]}")
                )
            seen[m.name] = field if field == "metrics" else "a shared metrics file"
    known = sorted(seen)
    hint = f"known metrics: {', '.join(known)}" if known else "no metrics are defined"
    refs: list[tuple[Loc, str]] = []
    if exp.primary_metric is not None:
        refs.append((("primary_metric",), exp.primary_metric))
    refs += [(("secondary_metrics", i), m) for i, m in enumerate(exp.secondary_metrics)]
    refs += [(("guardrails", i, "metric"), g.metric) for i, g in enumerate(exp.guardrails)]
    for loc, name in refs:
        if name not in seen:
            out.append((loc, f"unknown metric {name!r} ({hint})"))
    for i, name in enumerate(exp.secondary_metrics):
        if name == exp.primary_metric:
            out.append((("secondary_metrics", i), f"{name!r} is already the primary metric"))
    for i, g in enumerate(exp.guardrails):
        if g.metric == exp.primary_metric:
            out.append(
                (
                    ("guardrails", i, "metric"),
                    f"{g.metric!r} is the primary metric; a guardrail watches another metric",
                )
            )
    if exp.start is not None and exp.end is not None and exp.end < exp.start:
        out.append((("end",), f"planned end {exp.end} is before planned start {exp.start}"))
    for i, unit in enumerate(exp.exclude):
        if unit in exp.forced:
            out.append((("exclude", i), f"unit {unit!r} is both excluded and forced"))
    out += _source_problems(exp)
    kinds = {m.name: m.base_kind for m in (*exp.shared_metrics, *exp.metrics)}
    out += bandit_problems(exp.type, exp.bandit, len(exp.variants), kinds)
    out += interleaving_problems(exp.type, exp.interleaving, exp.variant_keys)
    out += shadow_problems(exp)
    seq = exp.analysis.sequential
    if seq.kind == "gst" and seq.horizon is None:
        out.append(
            (
                ("analysis", "sequential", "horizon"),
                "required when sequential.kind is 'gst': the planned units per variant "
                "at the last look, from which each look's information fraction is read",
            )
        )
    return out


def _source_problems(exp: Experiment) -> list[tuple[Loc, str]]:
    """Metrics of a per-unit table name columns; metrics of the event store name events."""
    out: list[tuple[Loc, str]] = []
    for field in ("shared_metrics", "metrics"):
        for i, m in enumerate(getattr(exp, field)):
            parts = [m] if m.numerator is None else [m.numerator, m.denominator]
            columns = [p.column for p in parts if p is not None]
            if exp.source is not None and None in columns:
                out.append(
                    (
                        (field, i),
                        f"metric {m.name!r} names an event, but the experiment reads a "
                        "per-unit table (source): give the metric a column",
                    )
                )
            elif exp.source is None and any(c is not None for c in columns):
                out.append(
                    (
                        (field, i),
                        f"metric {m.name!r} names a column: add a source block "
                        "(source: {table: ..., variant: ...}) or give it an event",
                    )
                )
    return out

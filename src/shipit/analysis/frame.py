"""``shipit.analyze`` for a notebook: an experiment spec, or a data frame / Ibis table.

A pandas, Polars or Arrow frame (read through Narwhals) or an Ibis table (run on its own
backend) is a per-unit table: the same ``analysis.table`` core as ``shipit analyze
TABLE``. The result prints as the terminal report, renders in Jupyter and converts to a
pandas or Arrow table of its effects.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from shipit.analysis.table import analyze_table
from shipit.errors import InputError
from shipit.result.model import Analysis
from shipit.spec.experiment import Experiment
from shipit.store.frames import frame_table

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipit.store.engine import Engine

__all__ = ["AnalysisResult", "analyze"]

# One row per (metric, variant) in ``to_pandas`` / ``to_arrow``, in this column order.
EFFECT_COLUMNS = (
    "metric",
    "variant",
    "control",
    "kind",
    "n_control",
    "n_variant",
    "mean_control",
    "mean_variant",
    "abs_effect",
    "abs_ci_low",
    "abs_ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "p_value_adjusted",
    "cuped",
)


@dataclass(frozen=True)
class AnalysisResult:
    """An ``Analysis`` that prints as its report (``str``), renders in Jupyter and converts
    its effects (the CUPED estimate where there is one) to pandas or Arrow; every other
    attribute is the analysis's own (``.verdict``, ``.effects``, ``.trust``)."""

    analysis: Analysis

    def __getattr__(self, name: str) -> Any:
        return getattr(self.analysis, name)

    def __str__(self) -> str:
        from shipit.report import to_text

        return to_text(self.analysis)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per effect (metric × variant), keys ``EFFECT_COLUMNS``."""
        out = []
        for e in self.analysis.effects:
            best = e.best
            out.append(
                {
                    "metric": e.metric,
                    "variant": e.variant,
                    "control": e.control,
                    "kind": e.kind,
                    "n_control": e.n_control,
                    "n_variant": e.n_variant,
                    "mean_control": e.mean_control,
                    "mean_variant": e.mean_variant,
                    "abs_effect": best.abs_effect,
                    "abs_ci_low": best.abs_ci_low,
                    "abs_ci_high": best.abs_ci_high,
                    "rel_effect": best.rel_effect,
                    "rel_ci_low": best.rel_ci_low,
                    "rel_ci_high": best.rel_ci_high,
                    "p_value": best.p_value,
                    "p_value_adjusted": best.p_value_adjusted,
                    "cuped": e.adjusted is not None,
                }
            )
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The effects as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(EFFECT_COLUMNS))

    def to_arrow(self) -> pa.Table:
        """The effects as an Arrow table."""
        import pyarrow as pa

        rows = self.rows()
        return pa.table({c: [r[c] for r in rows] for c in EFFECT_COLUMNS})

    def _repr_html_(self) -> str:
        """Jupyter's view: the verdict, its reasons, the trust checks and the effects."""
        a = self.analysis
        v = a.verdict
        head = html.escape(f"{a.experiment}: {v.decision}" + (f" {v.variant}" if v.variant else ""))
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in v.reasons)
        checks = "".join(
            f"<tr><td>{html.escape(t.status)}</td><td>{html.escape(t.name)}</td>"
            f"<td>{html.escape(t.message)}</td></tr>"
            for t in a.trust
        )
        effects = self.to_pandas().to_html(index=False, float_format=lambda x: f"{x:.4g}")
        return (
            f"<div class='shipit-analysis'><h3>{head}</h3><ul>{reasons}</ul>"
            f"<table><tr><th>status</th><th>check</th><th>detail</th></tr>{checks}</table>"
            f"{effects}</div>"
        )


@overload
def analyze(
    data: Experiment,
    engine: Engine | None = None,
    *,
    variant: str | None = None,
    metrics: Sequence[str] | str = (),
    ratios: Sequence[str | tuple[str, str]] = (),
    covariates: Sequence[str] | str = (),
    segments: Sequence[str] | str = (),
    control: str | None = None,
    unit: str | None = None,
    srm_threshold: float | None = None,
    **options: Any,
) -> Analysis: ...


@overload
def analyze(
    data: Any,
    engine: Engine | None = None,
    *,
    variant: str | None = None,
    metrics: Sequence[str] | str = (),
    ratios: Sequence[str | tuple[str, str]] = (),
    covariates: Sequence[str] | str = (),
    segments: Sequence[str] | str = (),
    control: str | None = None,
    unit: str | None = None,
    srm_threshold: float | None = None,
    **options: Any,
) -> AnalysisResult: ...


def analyze(
    data: Any,
    engine: Engine | None = None,
    *,
    variant: str | None = None,
    metrics: Sequence[str] | str = (),
    ratios: Sequence[str | tuple[str, str]] = (),
    covariates: Sequence[str] | str = (),
    segments: Sequence[str] | str = (),
    control: str | None = None,
    unit: str | None = None,
    srm_threshold: float | None = None,
    **options: Any,
) -> Analysis | AnalysisResult:
    """Analyse an experiment spec in ``engine`` (as ``analysis.analyze``), or a per-unit
    table: a pandas, Polars or Arrow frame or an Ibis table with one row per unit.

    >>> import pandas as pd, shipit
    >>> df = pd.DataFrame({"arm": ["a", "b"] * 50, "y": [0.0, 1.0, 1.0, 2.0] * 25})
    >>> result = shipit.analyze(df, variant="arm", metrics=["y"])
    >>> result.to_pandas()[["metric", "variant", "abs_effect"]].to_dict("records")
    [{'metric': 'y', 'variant': 'b', 'abs_effect': 1.0}]
    """
    if isinstance(data, Experiment):
        if engine is None:
            raise InputError("analyze(experiment, engine): name the engine holding its data")
        from shipit.analysis.pipeline import analyze as analyze_experiment

        return analyze_experiment(data, engine, srm_threshold=srm_threshold, **options)
    if variant is None:
        raise InputError("analyze(data, variant=COLUMN, metrics=[...]): name the variant column")
    if options:
        raise InputError(f"analyze(data, ...) takes no option {sorted(options)[0]!r} for a table")
    ref = frame_table(data)
    try:
        result = analyze_table(
            ref,
            variant=variant,
            metrics=_names(metrics),
            ratios=[ratios] if isinstance(ratios, str) else ratios,
            covariates=_names(covariates),
            segments=_names(segments),
            control=control,
            unit=unit,
            srm_threshold=srm_threshold,
        )
    finally:
        if ref.owned:
            ref.engine.close()
    return AnalysisResult(result)


def _names(value: Sequence[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)

"""The exposure CTEs every summary query starts from: the phase's exposures, each unit's
first exposure, and the exposed units (intent to treat: one variant, counted once)."""

from __future__ import annotations

from shipit.errors import SpecError
from shipit.metrics.request import MomentsRequest
from shipit.store.sql import Capabilities, identifier, literal

__all__ = ["Cte", "exposure_ctes", "phase_filter", "phase_start_literal"]

Cte = tuple[str, str]


def phase_start_literal(request: MomentsRequest) -> str | None:
    """The phase start as a timestamp literal (None: no start)."""
    if request.phase_start is None:
        return None
    return f"TIMESTAMP {literal(request.phase_start.strftime('%Y-%m-%d %H:%M:%S.%f'))}"


def _segment_from_exposures(request: MomentsRequest) -> str | None:
    """The segment expression over an exposure row when the segment is an exposures
    attribute, or the entry week (each unit keeps the week of its first exposure)."""
    segment = request.segment
    if segment and request.segment_in == "entry":
        return f"CAST(DATE_TRUNC('week', {identifier('timestamp')}) AS DATE)"
    return identifier(segment) if segment and request.segment_in == "exposures" else None


def exposure_ctes(
    request: MomentsRequest, capabilities: Capabilities, unit_columns: list[str] | None = None
) -> list[Cte]:
    """``phase_exposures``, ``first_exposures`` and ``exposed`` (one row per exposed unit:
    unit_id, first_ts, variant[, segment], then ``unit_columns`` from the units table).

    Every summary query starts from these; kinds with a query of their own reuse them.
    """
    return [
        _phase_exposures(request, capabilities),
        _first_exposures(request),
        _exposed(request, unit_columns or []),
    ]


def _phase_exposures(request: MomentsRequest, capabilities: Capabilities) -> Cte:
    where = phase_filter(request.experiment, request.phase)
    if request.unit_slice is not None:
        i, k = request.unit_slice
        if not capabilities.supports_unit_slices or not 0 <= i < k:
            raise SpecError(f"unit slice {i} of {k} needs 0 <= i < k on DuckDB")
        where.append(f"HASH({identifier('unit_id')}) % {int(k)} = {int(i)}")
    seg_src = _segment_from_exposures(request)
    return (
        "phase_exposures",
        f"SELECT {identifier('unit_id')} AS unit_id, {identifier('variant')} AS variant, "
        f"{identifier('timestamp')} AS ts"
        + (f", COALESCE(CAST({seg_src} AS VARCHAR), '(none)') AS segment" if seg_src else "")
        + f" FROM {identifier(request.table('exposures'))} WHERE {' AND '.join(where)}",
    )


def _first_exposures(request: MomentsRequest) -> Cte:
    start = phase_start_literal(request)
    return (
        "first_exposures",
        "SELECT unit_id, MIN(ts) AS first_ts, MIN(variant) AS variant, "
        "MAX(variant) AS max_variant"
        + (", ARG_MIN(segment, ts) AS segment" if _segment_from_exposures(request) else "")
        + " FROM phase_exposures"
        + (f" WHERE ts >= {start}" if start else "")
        + " GROUP BY unit_id",
    )


def _exposed(request: MomentsRequest, unit_columns: list[str]) -> Cte:
    segment = request.segment
    from_units = bool(segment) and request.segment_in == "units"
    cols = list(unit_columns)
    if segment and from_units:
        cols.append(f"un.{identifier(segment)} AS segment")
    select = ["f.unit_id", "f.first_ts", "f.variant"]
    if _segment_from_exposures(request):
        select.append("f.segment")
    select += cols
    join = (
        f" LEFT JOIN {identifier(request.table('units'))} un "
        f"ON un.{identifier('unit_id')} = f.unit_id"
        if unit_columns or from_units
        else ""
    )
    variants = ", ".join(literal(v) for v in request.variants)
    return (
        "exposed",
        f"SELECT {', '.join(select)} FROM first_exposures f"
        + join
        + f" WHERE f.variant = f.max_variant AND f.variant IN ({variants})",
    )


def phase_filter(experiment: str, phase: int | None) -> list[str]:
    """Conditions on the exposures table: the experiment and, when given, its phase."""
    where = [f"{identifier('experiment')} = {literal(experiment)}"]
    if phase is not None:
        where.append(f"{identifier('phase')} = {int(phase)}")
    return where

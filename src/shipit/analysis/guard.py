"""No silent zeros: what an analysis refuses before it computes, and what it checks after.

Before any moments, every event a metric names must have rows in the store, every column
it reads must exist (and hold numbers where it is summed), and every variant of the spec
must have exposures; each refusal is one line naming the metric, the field and the names
that do exist. Engine errors that still happen are translated to name the metrics.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import wraps
from typing import ParamSpec, TypeVar

from shipit.decide.timing import events_before_exposure_check
from shipit.errors import DataError, EngineError
from shipit.metrics.preflight import (
    event_names,
    event_timing,
    experiment_keys,
    field_uses,
    is_numeric,
    phase_exposures,
    variant_exposures,
)
from shipit.metrics.request import ENTRY_WEEK
from shipit.result.model import TrustCheck
from shipit.spec.metric import MetricDef
from shipit.store.engine import Engine

__all__ = ["check_inputs", "engine_failure", "guarded", "timing_check"]

_SHOWN = 20
_TABLES = {"exposures": "exposures", "events": "events", "units": "units"}
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _listed(names: Iterable[str]) -> str:
    """Names for a message: sorted, at most ``_SHOWN`` of them."""
    items = sorted(names)
    more = f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return ", ".join(repr(n) for n in items[:_SHOWN]) + more if items else "none"


def _hint(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_inputs(
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    engine: Engine,
    *,
    phase: int | None = None,
    segments: Sequence[str] = (),
    tables: Mapping[str, str] | None = None,
) -> None:
    """Refuse (``DataError``) what would otherwise become zeros or an SRM halt: an
    experiment or a variant without exposures, a metric event without rows, a metric
    column that does not exist or holds text where numbers are summed, an unknown segment.
    ``tables`` renames the store tables (as in ``compute_moments``)."""
    t = {**_TABLES, **(tables or {})}
    try:
        _check_exposures(experiment, variants, engine, phase, t)
        _check_metrics(metrics, engine, t)
        _check_segments(segments, engine, t)
    except EngineError as exc:
        raise engine_failure(exc, metrics) from exc


def _check_exposures(
    experiment: str,
    variants: Sequence[str],
    engine: Engine,
    phase: int | None,
    t: Mapping[str, str],
) -> None:
    where = f" in phase {phase}" if phase is not None else ""
    stored = variant_exposures(engine, experiment, phase, t["exposures"])
    if not stored:
        others = phase_exposures(engine, experiment, t["exposures"]) if phase is not None else {}
        if others:
            found = ", ".join(
                f"{'no phase' if k is None else f'phase {k}'} ({n:,})"
                for k, n in sorted(others.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0))
            )
            raise DataError(
                f"experiment {experiment!r} has no exposures in the store{where}; its "
                f"exposures are in {found}. An exposure counts in the phase it carries "
                "(the SDK sends the phase of its feature spec)"
            )
        keys = experiment_keys(engine, t["exposures"])
        raise DataError(
            f"experiment {experiment!r} has no exposures in the store{where}"
            f"{_hint(experiment, keys)}; experiments with exposures: {_listed(keys)}"
        )
    for v in variants:
        if v not in stored:
            found = ", ".join(f"{k!r} ({n:,})" for k, n in sorted(stored.items()))
            raise DataError(
                f"variant {v!r} of experiment {experiment!r} has no exposures{where}"
                f"{_hint(v, stored)}; variants with exposures: {found}"
            )


def _check_metrics(metrics: Sequence[MetricDef], engine: Engine, t: Mapping[str, str]) -> None:
    uses = [u for m in metrics for u in field_uses(m)]
    event_uses = [u for u in uses if u.event is not None]
    ev_columns = engine.columns(t["events"]) or {}
    if event_uses:
        names = event_names(engine, t["events"]) if ev_columns else {}
        for u in event_uses:
            assert u.event is not None
            if u.event not in names:
                where = "has no rows" if ev_columns else "cannot be read: there is no events table"
                raise DataError(
                    f"metric {u.metric!r}, field {u.field}: event {u.event!r} {where}"
                    f"{_hint(u.event, names)}; events in the store: {_listed(names)}"
                )
    for u in uses:
        if u.value is not None:
            _check_column(
                u.metric,
                u.field.replace("event", "value"),
                u.value,
                u.numeric,
                "events",
                ev_columns,
            )
        if u.unit_column is not None:
            units = engine.columns(t["units"])
            if units is None:
                raise DataError(
                    f"metric {u.metric!r}, field {u.field}: column {u.unit_column!r} is a units "
                    "table column, and there is no units table: load one (`shipit load units FILE`)"
                )
            _check_column(u.metric, u.field, u.unit_column, True, "units", units)


def _check_column(
    metric: str, field: str, column: str, numeric: bool, table: str, columns: dict[str, str]
) -> None:
    if column not in columns:
        raise DataError(
            f"metric {metric!r}, field {field}: column {column!r} is not in the {table} table"
            f"{_hint(column, columns)}; its columns: {_listed(columns)}"
        )
    if numeric and not is_numeric(columns[column]):
        raise DataError(
            f"metric {metric!r}, field {field}: column {column!r} of the {table} table holds "
            f"{columns[column]}, not numbers; numeric columns: "
            f"{_listed(c for c, t in columns.items() if is_numeric(t))}"
        )


def _check_segments(segments: Sequence[str], engine: Engine, t: Mapping[str, str]) -> None:
    exposures = engine.columns(t["exposures"]) or {}
    units = engine.columns(t["units"]) or {}
    fixed = {"experiment", "phase", "unit_id", "variant", "timestamp"}
    for s in segments:
        if s == ENTRY_WEEK:  # computed from each unit's first exposure
            continue
        if s not in exposures and s not in units:
            attrs = [c for c in exposures if c not in fixed] + [c for c in units if c != "unit_id"]
            raise DataError(
                f"segment {s!r} is neither an exposures attribute nor a units column"
                f"{_hint(s, attrs)}; attributes in the store: {_listed(attrs)}"
            )


def timing_check(
    experiment: str,
    metrics: Sequence[MetricDef],
    engine: Engine,
    *,
    phase: int | None = None,
    tables: Mapping[str, str] | None = None,
) -> TrustCheck | None:
    """The ``events_before_exposure`` check over the post-exposure metrics' events (None
    when no metric reads events after exposure)."""
    post = {
        m.name: [
            u.event for u in field_uses(m) if u.event is not None and "covariates" not in u.field
        ]
        for m in metrics
        if m.window.start_hours >= 0
    }
    post = {m: e for m, e in post.items() if e}
    if not post:
        return None
    try:
        timing = event_timing(
            engine, experiment, phase, [e for es in post.values() for e in es], tables
        )
    except EngineError as exc:
        raise engine_failure(exc, metrics) from exc
    per_metric = {}
    for m, events in post.items():
        rows = [timing[e] for e in dict.fromkeys(events) if e in timing]
        per_metric[m] = (sum(t.events for t in rows), sum(t.before_exposure for t in rows))
    return events_before_exposure_check(per_metric)


_QUOTED = re.compile(r'"([^"]+)"')


def engine_failure(exc: EngineError, metrics: Sequence[MetricDef]) -> EngineError:
    """The engine's error, naming the metrics (and fields) whose names it mentions, or all
    metrics of the query when it names none of them."""
    text = str(exc)
    mentioned = set(_QUOTED.findall(text)) | set(re.findall(r"'([^']+)'", text))
    named = []
    for m in metrics:
        for u in field_uses(m):
            for value in (u.event, u.value, u.unit_column):
                if value is not None and value in mentioned:
                    field = u.field if value != u.value else u.field.replace("event", "value")
                    named.append(f"metric {m.name!r} (field {field}: {value!r})")
    who = "; ".join(dict.fromkeys(named)) or f"metrics {_listed(m.name for m in metrics)}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return EngineError(f"computing {who} failed in the engine: {first}")


def guarded(fn: Callable[_P, _R], metrics: Sequence[MetricDef]) -> Callable[_P, _R]:
    """``fn`` whose engine errors name ``metrics`` (see ``engine_failure``)."""

    @wraps(fn)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except EngineError as exc:
            raise engine_failure(exc, metrics) from exc

    return call

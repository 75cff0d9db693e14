"""What every scenario produces, and the chunked driver that scales it to millions of units.

A scenario describes itself once (``ScenarioInfo``: metrics, variants, guardrails, true
effects) and generates units in independent chunks, each from its own seeded stream, so
that 10M users never sit in memory at once and the same seed always gives the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shipit.errors import InputError
from shipit.spec.metric import MetricDef

__all__ = [
    "GuardrailDef",
    "Progress",
    "Scenario",
    "ScenarioInfo",
    "SimChunk",
    "SimData",
    "StratifiedAssign",
    "generate_chunks",
]

Progress = Callable[[int, int], None]
"""Called as progress(units_done, units_total) after each chunk."""

Assign = Callable[[np.ndarray], np.ndarray]
"""Variant index per unit, given the units' ids: an outside assignment replacing the draw."""

StratifiedAssign = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Variant index per unit, given the units' ids and strata: an outside stratified design."""

START = pd.Timestamp("2026-01-05")


@dataclass(frozen=True)
class GuardrailDef:
    """A guardrail of a scenario: the metric and the worst acceptable change."""

    metric: str
    margin: float
    relative: bool = True


@dataclass(frozen=True)
class ScenarioInfo:
    """Everything about a scenario but its rows: the experiment and its recorded truth.

    ``salt`` is the experiment's assignment salt where the scenario's draw depends on it.
    ``true_effects`` maps a metric (or ``metric[variant]``, ``metric@dimension=segment``)
    to its true effect: relative unless the key is listed in ``absolute``.
    """

    name: str
    description: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]
    primary: str
    metrics: tuple[MetricDef, ...]
    guardrails: tuple[GuardrailDef, ...]
    segments: tuple[str, ...]
    covariates: tuple[str, ...]
    true_effects: dict[str, float]
    absolute: frozenset[str] = frozenset()
    mde: float = 0.02
    days: int = 28
    start: pd.Timestamp = START
    salt: str | None = None


class SimChunk:
    """One chunk of generated rows (disjoint units and event ids), as pandas frames.

    A scenario may give its rows as Arrow tables instead (``columnar``): the store takes
    those as they are, and the frames are made only when asked for. The events'
    ``unit_id`` and ``event`` columns are pandas categoricals either way, which keeps
    10M-unit runs fast; ``.astype(str)`` gives plain strings where a consumer needs them.
    """

    __slots__ = ("_frames", "_tables")

    def __init__(
        self,
        exposures: pd.DataFrame | pa.Table,
        events: pd.DataFrame | pa.Table,
        units: pd.DataFrame | pa.Table,
    ) -> None:
        given = {"exposures": exposures, "events": events, "units": units}
        self._tables = {k: v for k, v in given.items() if isinstance(v, pa.Table)}
        self._frames = {k: v for k, v in given.items() if isinstance(v, pd.DataFrame)}

    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = self._tables[name].to_pandas()
        return self._frames[name]

    @property
    def exposures(self) -> pd.DataFrame:
        return self._frame("exposures")

    @property
    def events(self) -> pd.DataFrame:
        return self._frame("events")

    @property
    def units(self) -> pd.DataFrame:
        return self._frame("units")

    def rows(self, name: str) -> int:
        """Rows of one table, without making its frame."""
        table = self._tables.get(name)
        return table.num_rows if table is not None else len(self._frames[name])

    def columnar(self, name: str) -> pa.Table | None:
        """The table's rows as the scenario generated them in Arrow, or None (pandas)."""
        return self._tables.get(name)


@dataclass(frozen=True)
class SimData:
    """A whole generated experiment: its tables, metric definitions and true effects."""

    info: ScenarioInfo
    exposures: pd.DataFrame
    events: pd.DataFrame
    units: pd.DataFrame
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[MetricDef, ...]:
        return self.info.metrics

    @property
    def true_effects(self) -> dict[str, float]:
        return self.info.true_effects


class Scenario(Protocol):
    """A scenario: its description and a generator of one chunk of units."""

    def info(self) -> ScenarioInfo: ...

    def chunk(
        self, rng: np.random.Generator, first_unit: int, n: int, first_event: int
    ) -> SimChunk: ...


def unit_id_array(first: int, n: int) -> pa.Array:
    """Stable string ids u00000001, u00000002, ... for units first..first+n-1, in Arrow."""
    digits = pa.array(np.arange(first, first + n)).cast(pa.string())
    ids: pa.Array = pc.binary_join_element_wise("u", pc.utf8_lpad(digits, 8, "0"), "")
    return ids


def unit_ids(first: int, n: int) -> pd.Series:
    """Stable string ids u00000001, u00000002, ... for units first..first+n-1."""
    return pd.Series(unit_id_array(first, n).to_numpy(zero_copy_only=False))


def generate_chunks(
    scenario: Scenario,
    n_users: int,
    *,
    seed: int = 0,
    chunk_size: int = 500_000,
    progress: Progress | None = None,
    assign: Assign | StratifiedAssign | None = None,
) -> Iterator[SimChunk]:
    """Chunks of a scenario's data; chunk k draws from the stream (seed, k) alone.

    With ``assign``, units get the variants it gives: from their ids (scenarios with
    ``takes_assignments``) or from their ids and strata (``takes_strata``, a stratified design).
    """
    strata = getattr(scenario, "takes_strata", False)
    if assign is not None and not (strata or getattr(scenario, "takes_assignments", False)):
        raise InputError(
            f"scenario {scenario.info().name!r} randomizes itself and takes no assignments"
        )
    if n_users < 2:
        raise InputError(f"n_users must be at least 2, got {n_users}")
    if chunk_size < 2:
        raise InputError(f"chunk_size must be at least 2, got {chunk_size}")
    done, event_offset, k = 0, 0, 0
    while done < n_users:
        n = min(chunk_size, n_users - done)
        rng = np.random.default_rng([seed, k])
        if assign is None:
            chunk = scenario.chunk(rng, done, n, event_offset)
        elif strata:
            chunk = scenario.chunk(rng, done, n, event_offset, design=assign)  # type: ignore[call-arg]
        else:
            given = assign(unit_ids(done, n).to_numpy())  # type: ignore[call-arg]
            chunk = scenario.chunk(rng, done, n, event_offset, variants=given)  # type: ignore[call-arg]
        event_offset += chunk.rows("events")
        done += n
        k += 1
        if progress is not None:
            progress(done, n_users)
        yield chunk


def collect(
    scenario: Scenario,
    n_users: int,
    *,
    seed: int = 0,
    chunk_size: int = 500_000,
    progress: Progress | None = None,
) -> SimData:
    """All chunks of a scenario concatenated into one ``SimData``."""
    parts = list(
        generate_chunks(scenario, n_users, seed=seed, chunk_size=chunk_size, progress=progress)
    )
    return SimData(
        info=scenario.info(),
        exposures=pd.concat([p.exposures for p in parts], ignore_index=True),
        events=pd.concat([p.events for p in parts], ignore_index=True),
        units=pd.concat([p.units for p in parts], ignore_index=True),
        seed=seed,
    )


def given_variants(drawn: np.ndarray, given: np.ndarray | None, k: int) -> np.ndarray:
    """The variant index per unit: ``given`` when there is one (checked), else ``drawn``."""
    if given is None:
        return drawn
    out = np.asarray(given)
    if out.shape != drawn.shape or not np.issubdtype(out.dtype, np.integer):
        raise InputError(f"assignments must be {drawn.size} integer variant indexes")
    if out.size and (out.min() < 0 or out.max() >= k):
        raise InputError(f"assignments must be variant indexes in 0..{k - 1} (no unenrolled units)")
    return out


def codes_to_labels(codes: np.ndarray, labels: Sequence[str] | np.ndarray) -> pd.Categorical:
    """A categorical column from integer codes into ``labels`` (no string copies)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels))


def dictionary(codes: np.ndarray, labels: Sequence[str]) -> pa.DictionaryArray:
    """An Arrow text column from integer codes into ``labels`` (no string copies)."""
    return pa.DictionaryArray.from_arrays(codes, pa.array(list(labels), pa.string()))


def nanoseconds(hours: np.ndarray) -> np.ndarray:
    """Hours as whole nanoseconds (truncated, as ``timestamps`` does)."""
    out: np.ndarray = (hours * 3.6e12).astype(np.int64)
    return out


def microseconds(ns: np.ndarray) -> pa.Array:
    """Nanoseconds since the epoch as an Arrow timestamp column, floored to microseconds."""
    return pa.array(ns // 1000, pa.timestamp("us"))


def timestamps(base: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Timestamps (datetime64[ns]) at ``hours`` after each ``base``."""
    out: np.ndarray = base + (hours * 3.6e12).astype("timedelta64[ns]")
    return out

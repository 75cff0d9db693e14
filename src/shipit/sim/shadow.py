"""Shadow runs with a known truth: a candidate model logged beside production.

``simulate_scores`` gives each request a production score s ~ U(0, 1) and a label
y ~ Bernoulli(s) (production is calibrated); the candidate gives the same score with
probability ``agree`` and else s + D, D ~ U(``shift_low``, ``shift_high``) above the
tolerance. So the true agreement is ``agree``, the true mean difference (1 − agree)·E[D],
production's mean squared error E[s(1 − s)] = 1/6 and the candidate's 1/6 + (1 − agree)·E[D²]
(D is independent of s − y, whose mean is 0). Latencies are log-normal: the true q-quantile
is exp(μ + σ·Φ⁻¹(q)).

``simulate_labels`` draws K classes: production is right with probability
``production_accuracy`` (else a uniform wrong class); the candidate copies production with
probability ``copy`` and else guesses on its own, right with probability
``candidate_accuracy``. The true agreement is copy + (1 − copy)·[a_p·a_c + (1 − a_p)(1 − a_c)
/(K − 1)] and the candidate's accuracy copy·a_p + (1 − copy)·a_c.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import numpy as np
import pyarrow as pa

from shipit.store.tables import SHADOW

__all__ = ["ShadowSim", "simulate_labels", "simulate_scores"]

_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class ShadowSim:
    """Simulated pairs (``rows``: columns of the shadow table), label events and the truth."""

    rows: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    truth: dict[str, float] = field(default_factory=dict)

    def shadow_table(self, experiment: str) -> pa.Table:
        """The pairs as a ``shadow_predictions`` batch."""
        n = len(self.rows["request_id"])
        stamps = [(_START + timedelta(seconds=i)).replace(tzinfo=None) for i in range(n)]
        cols = {
            "experiment": pa.array([experiment] * n),
            "phase": pa.array(np.zeros(n, np.int32)),
            "timestamp": pa.array(stamps, pa.timestamp("us")),
        }
        for k, v in self.rows.items():
            cols[k] = pa.array(v.tolist() if v.dtype == object else v)
        for column in SHADOW.columns:  # every column, as the API writes them
            if column.name not in cols:
                kind = pa.float64() if column.type == "DOUBLE" else pa.string()
                cols[column.name] = pa.nulls(n, kind)
        return pa.table(cols)

    def events_table(self, event: str) -> pa.Table:
        """The labels as ``events`` rows (``request_id`` a property)."""
        n = len(self.labels["request_id"])
        stamps = [(_START + timedelta(days=1, seconds=i)).replace(tzinfo=None) for i in range(n)]
        cols: dict[str, pa.Array] = {
            "event_id": pa.array([f"label-{r}" for r in self.labels["request_id"]]),
            "unit_id": pa.array(self.labels["unit_id"].tolist()),
            "event": pa.array([event] * n),
            "timestamp": pa.array(stamps, pa.timestamp("us")),
        }
        y = self.labels["y"]
        if y.dtype == object:
            cols["value"] = pa.nulls(n, pa.float64())
            cols["label"] = pa.array(y.tolist())
        else:
            cols["value"] = pa.array(y.astype(float))
        cols["request_id"] = pa.array(self.labels["request_id"].tolist())
        return pa.table(cols)


def _requests(rng: np.random.Generator, units: int, per_unit: float) -> tuple[np.ndarray, ...]:
    counts = 1 + rng.poisson(per_unit - 1, units)
    unit = np.repeat(np.arange(units), counts)
    unit_ids = np.array([f"u{i}" for i in unit], dtype=object)
    request_ids = np.array([f"r{i}" for i in range(len(unit))], dtype=object)
    return unit_ids, request_ids


def _latency(rng: np.random.Generator, n: int, mu: float, sigma: float) -> np.ndarray:
    return np.exp(rng.normal(mu, sigma, n))


def _true_quantiles(mu: float, sigma: float, qs: tuple[float, ...]) -> dict[float, float]:
    return {q: float(np.exp(mu + sigma * NormalDist().inv_cdf(q))) for q in qs}


def simulate_scores(
    seed: int,
    *,
    units: int = 1000,
    per_unit: float = 3.0,
    agree: float = 0.9,
    shift_low: float = 0.05,
    shift_high: float = 0.25,
    production_latency: tuple[float, float] = (3.0, 0.4),
    candidate_latency: tuple[float, float] = (3.3, 0.5),
    labelled: float = 1.0,
    quantiles: tuple[float, ...] = (0.5, 0.95, 0.99),
) -> ShadowSim:
    """A score-kind shadow run (see the module docstring for its truth)."""
    rng = np.random.default_rng(seed)
    unit_ids, request_ids = _requests(rng, units, per_unit)
    n = len(request_ids)
    s = rng.random(n)
    y = (rng.random(n) < s).astype(float)
    shift = np.where(rng.random(n) < agree, 0.0, rng.uniform(shift_low, shift_high, n))
    rows = {
        "unit_id": unit_ids,
        "request_id": request_ids,
        "production_score": s,
        "candidate_score": s + shift,
        "production_ms": _latency(rng, n, *production_latency),
        "candidate_ms": _latency(rng, n, *candidate_latency),
    }
    keep = rng.random(n) < labelled
    lo, hi = shift_low, shift_high
    e_d2 = (lo * lo + lo * hi + hi * hi) / 3.0
    truth = {
        "agreement": agree,
        "mean_difference": (1 - agree) * (lo + hi) / 2.0,
        "production_mse": 1.0 / 6.0,
        "candidate_mse": 1.0 / 6.0 + (1 - agree) * e_d2,
        "paired_mse": (1 - agree) * e_d2,
    }
    for q, v in _true_quantiles(*production_latency, quantiles).items():
        truth[f"production_p{q:g}"] = v
    for q, v in _true_quantiles(*candidate_latency, quantiles).items():
        truth[f"candidate_p{q:g}"] = v
    labels = {"unit_id": unit_ids[keep], "request_id": request_ids[keep], "y": y[keep]}
    return ShadowSim(rows, labels, truth)


def simulate_labels(
    seed: int,
    *,
    units: int = 1000,
    per_unit: float = 3.0,
    classes: int = 4,
    production_accuracy: float = 0.8,
    candidate_accuracy: float = 0.7,
    copy: float = 0.5,
    production_latency: tuple[float, float] = (3.0, 0.4),
    candidate_latency: tuple[float, float] = (2.8, 0.3),
) -> ShadowSim:
    """A label-kind shadow run (see the module docstring for its truth)."""
    rng = np.random.default_rng(seed)
    unit_ids, request_ids = _requests(rng, units, per_unit)
    n = len(request_ids)
    k = classes
    y = rng.integers(0, k, n)

    def guess(accuracy: float) -> np.ndarray:
        wrong = (y + rng.integers(1, k, n)) % k  # uniform over the other classes
        return np.where(rng.random(n) < accuracy, y, wrong)

    prod = guess(production_accuracy)
    cand = np.where(rng.random(n) < copy, prod, guess(candidate_accuracy))
    names = np.array([f"class-{i}" for i in range(k)], dtype=object)
    a_p, a_c = production_accuracy, candidate_accuracy
    truth = {
        "agreement": copy + (1 - copy) * (a_p * a_c + (1 - a_p) * (1 - a_c) / (k - 1)),
        "production_accuracy": a_p,
        "candidate_accuracy": copy * a_p + (1 - copy) * a_c,
        "paired_accuracy": (1 - copy) * (a_c - a_p),
    }
    rows = {
        "unit_id": unit_ids,
        "request_id": request_ids,
        "production_label": names[prod],
        "candidate_label": names[cand],
        "production_ms": _latency(rng, n, *production_latency),
        "candidate_ms": _latency(rng, n, *candidate_latency),
    }
    labels = {"unit_id": unit_ids, "request_id": request_ids, "y": names[y]}
    return ShadowSim(rows, labels, truth)

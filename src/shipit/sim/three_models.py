"""The three-models scenario: a popularity baseline against three recommendation models.

True click-through per impression: popularity 5.0%, collaborative filtering 6.2%,
content-based 5.8%, hybrid 6.5%. Revenue follows clicks (a fixed share of clicks buy), so
its relative effect equals the CTR's; latency rises with model complexity, inside a 30 ms
guardrail. The right verdict ships the hybrid, with collaborative filtering runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shipit.sim._base import (
    START,
    GuardrailDef,
    ScenarioInfo,
    SimChunk,
    codes_to_labels,
    given_variants,
    timestamps,
    unit_ids,
)
from shipit.spec.metric import Aggregate, MetricDef, Window

__all__ = ["ThreeModels"]

VARIANTS = ("popularity", "collaborative", "content", "hybrid")
DAYS = 14


@dataclass(frozen=True)
class ThreeModels:
    """Scenario parameters (true values per variant, in ``VARIANTS`` order)."""

    ctr: tuple[float, float, float, float] = (0.050, 0.062, 0.058, 0.065)
    latency_ms: tuple[float, float, float, float] = (40.0, 52.0, 48.0, 58.0)
    latency_margin_ms: float = 30.0
    revenue_margin: float = 0.05
    buy_per_click: float = 0.2

    def info(self) -> ScenarioInfo:
        """Metrics, guardrails and the recorded truth of this scenario."""
        window = Window(start_hours=0.0, end_hours=DAYS * 24.0)
        metrics = (
            MetricDef(
                name="ctr",
                description="clicks per recommendation impression",
                numerator=Aggregate(event="click", aggregation="count"),
                denominator=Aggregate(event="impression", aggregation="count"),
                window=window,
            ),
            MetricDef(
                name="revenue",
                description="revenue per user",
                event="purchase",
                aggregation="sum",
                window=window,
            ),
            MetricDef(
                name="latency_ms",
                description="mean recommendation latency in ms",
                numerator=Aggregate(event="impression", aggregation="sum"),
                denominator=Aggregate(event="impression", aggregation="count"),
                window=window,
                higher_is_better=False,
            ),
        )
        truth: dict[str, float] = {}
        absolute = set()
        for v, c, lat in zip(VARIANTS[1:], self.ctr[1:], self.latency_ms[1:], strict=True):
            truth[f"ctr[{v}]"] = c / self.ctr[0] - 1
            truth[f"revenue[{v}]"] = c / self.ctr[0] - 1
            truth[f"latency_ms[{v}]"] = lat - self.latency_ms[0]
            absolute.add(f"latency_ms[{v}]")
        for v, c in zip(VARIANTS, self.ctr, strict=True):
            truth[f"ctr_level[{v}]"] = c
            absolute.add(f"ctr_level[{v}]")
        return ScenarioInfo(
            name="three-models",
            description="popularity baseline vs collaborative, content-based and hybrid models",
            variants=VARIANTS,
            weights=(0.25, 0.25, 0.25, 0.25),
            primary="ctr",
            metrics=metrics,
            guardrails=(
                GuardrailDef("revenue", self.revenue_margin, relative=True),
                GuardrailDef("latency_ms", self.latency_margin_ms, relative=False),
            ),
            segments=("platform",),
            covariates=(),
            true_effects=truth,
            absolute=frozenset(absolute),
            mde=0.05,
            days=DAYS,
        )

    takes_assignments = True

    def chunk(
        self,
        rng: np.random.Generator,
        first_unit: int,
        n: int,
        first_event: int,
        variants: np.ndarray | None = None,
    ) -> SimChunk:
        """``n`` users with their impressions (value = latency), clicks and purchases.

        ``variants`` (index per unit) replaces the scenario's own draw (see ``Ecommerce``).
        """
        variant = given_variants(rng.integers(0, 4, n), variants, 4)
        platform = np.where(rng.random(n) < 0.55, "app", "web")
        impressions = 1 + rng.poisson(9.0 * rng.gamma(3.0, 1 / 3.0, n))
        # Mild per-user taste: a mean-one multiplier on the variant's true CTR.
        ctr = np.asarray(self.ctr)[variant] * rng.gamma(20.0, 1 / 20.0, n)
        clicks = rng.binomial(impressions, np.clip(ctr, 0, 1))
        buys = rng.binomial(clicks, self.buy_per_click)

        entry_h = rng.uniform(0.0, DAYS * 24.0, n)
        base = np.datetime64(START.to_datetime64(), "ns")
        first_ts = timestamps(np.full(n, base), entry_h)
        ids = unit_ids(first_unit, n).to_numpy()

        imp_owner = np.repeat(np.arange(n), impressions)
        lat_mean = np.asarray(self.latency_ms)[variant[imp_owner]]
        latency = rng.gamma(6.0, lat_mean / 6.0)
        ck_owner = np.repeat(np.arange(n), clicks)
        buy_owner = np.repeat(np.arange(n), buys)
        amount = rng.lognormal(np.log(40.0) - 0.32, 0.8, buy_owner.size)
        parts = [
            ("impression", imp_owner, latency),
            ("click", ck_owner, np.ones(ck_owner.size)),
            ("purchase", buy_owner, amount),
        ]
        owner = np.concatenate([p[1] for p in parts])
        hours = rng.uniform(0.0, 72.0, owner.size)
        events = pd.DataFrame(
            {
                "event_id": np.arange(first_event, first_event + owner.size, dtype=np.int64),
                "unit_id": codes_to_labels(owner, ids),
                "event": codes_to_labels(
                    np.repeat(np.arange(len(parts), dtype=np.int8), [p[1].size for p in parts]),
                    [p[0] for p in parts],
                ),
                "ts": timestamps(first_ts[owner], hours),
                "value": np.concatenate([p[2] for p in parts]),
            }
        )
        names = np.array(VARIANTS)
        exposures = pd.DataFrame(
            {"unit_id": ids, "variant": names[variant], "ts": first_ts, "platform": platform}
        )
        units = pd.DataFrame({"unit_id": ids, "platform": platform})
        return SimChunk(exposures=exposures, events=events, units=units)

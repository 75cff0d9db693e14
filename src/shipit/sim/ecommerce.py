"""The ecommerce scenario: an ML recommendation widget on a shop, with a slow page.

Click-through on the widget +8%, add-to-cart +4%, revenue +5% (all relative), but every
page loads 20 ms slower, against a 10 ms page-load guardrail: the right verdict is to roll
back. Units differ by device (mobile, desktop, tablet) and new vs returning visitors.
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
from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window

__all__ = ["Ecommerce"]

DEVICES = np.array(["mobile", "desktop", "tablet"])
DEVICE_P = np.array([0.6, 0.35, 0.05])
DEVICE_CTR = np.array([0.04, 0.06, 0.05])
DEVICE_LOAD = np.array([1100.0, 700.0, 900.0])  # mean page load in ms
DEVICE_PAGES = np.array([4.0, 6.0, 5.0])
DAYS = 14


@dataclass(frozen=True)
class Ecommerce:
    """Scenario parameters (true effects)."""

    ctr_lift: float = 0.08
    cart_lift: float = 0.04
    revenue_lift: float = 0.05
    load_ms: float = 20.0
    load_margin_ms: float = 10.0

    def info(self) -> ScenarioInfo:
        """Metrics, guardrails and the recorded truth of this scenario."""
        window = Window(start_hours=0.0, end_hours=DAYS * 24.0)
        pre = (Covariate(name="pre_pages", column="pre_pages"),)
        metrics = (
            MetricDef(
                name="ctr",
                description="widget clicks per page view",
                numerator=Aggregate(event="click", aggregation="count"),
                denominator=Aggregate(event="page_view", aggregation="count"),
                window=window,
            ),
            MetricDef(
                name="add_to_cart",
                description="share of visitors adding to cart",
                event="add_to_cart",
                aggregation="any",
                window=window,
            ),
            MetricDef(
                name="revenue",
                description="revenue per visitor",
                event="purchase",
                aggregation="sum",
                window=window,
                winsorize=0.99,
                covariates=pre,
            ),
            MetricDef(
                name="page_load_ms",
                description="mean page load time in ms",
                numerator=Aggregate(event="page_view", aggregation="sum"),
                denominator=Aggregate(event="page_view", aggregation="count"),
                window=window,
                higher_is_better=False,
            ),
        )
        return ScenarioInfo(
            name="ecommerce",
            description="ML recommendations on a shop: more clicks, but slower pages",
            variants=("control", "ml_recs"),
            weights=(0.5, 0.5),
            primary="ctr",
            metrics=metrics,
            guardrails=(GuardrailDef("page_load_ms", self.load_margin_ms, relative=False),),
            segments=("device", "visitor"),
            covariates=("pre_pages",),
            true_effects={
                "ctr": self.ctr_lift,
                "add_to_cart": self.cart_lift,
                "revenue": self.revenue_lift,
                "page_load_ms": self.load_ms,
            },
            absolute=frozenset({"page_load_ms"}),
            mde=0.02,
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
        """``n`` visitors with their page views, clicks, carts and purchases.

        ``variants`` (index per unit) replaces the scenario's own draw, which is still made
        so that every other draw of the seeded stream stays the same.
        """
        dev = rng.choice(3, n, p=DEVICE_P)
        returning = rng.random(n) < 0.6
        variant = given_variants(rng.integers(0, 2, n), variants, 2)
        treated = variant == 1
        engage = rng.gamma(2.0, 0.5, n) * np.where(returning, 1.3, 0.8)
        pre_pages = rng.poisson(DEVICE_PAGES[dev] * engage * np.where(returning, 1.0, 0.1))
        pages = 1 + rng.poisson(DEVICE_PAGES[dev] * engage)
        base_ctr = np.clip(DEVICE_CTR[dev] * rng.lognormal(-0.08, 0.4, n), 0, 0.5)
        ctr = base_ctr * np.where(treated, 1 + self.ctr_lift, 1.0)
        clicks = rng.binomial(pages, ctr)
        p_cart = np.clip(0.10 * np.where(returning, 1.2, 0.7) * engage, 0, 0.9)
        cart = rng.random(n) < p_cart * np.where(treated, 1 + self.cart_lift, 1.0)
        # Revenue = carts × purchase rate × amount: the purchase rate carries what is left.
        p_buy = 0.35 * np.where(treated, (1 + self.revenue_lift) / (1 + self.cart_lift), 1.0)
        buy = cart & (rng.random(n) < p_buy)
        amount = rng.lognormal(np.log(60.0) - 0.5, 1.0, n)

        entry_h = rng.uniform(0.0, DAYS * 24.0, n)
        base = np.datetime64(START.to_datetime64(), "ns")
        first_ts = timestamps(np.full(n, base), entry_h)
        ids = unit_ids(first_unit, n).to_numpy()

        pv_owner = np.repeat(np.arange(n), pages)
        pv_h = rng.uniform(0.0, 24.0 * 3, pv_owner.size)
        load = rng.gamma(4.0, DEVICE_LOAD[dev[pv_owner]] / 4.0)
        load = load + np.where(treated[pv_owner], self.load_ms, 0.0)
        ck_owner = np.repeat(np.arange(n), clicks)
        cart_owner = np.flatnonzero(cart)
        buy_owner = np.flatnonzero(buy)
        parts = [
            ("page_view", pv_owner, pv_h, load),
            ("click", ck_owner, rng.uniform(0, 72.0, ck_owner.size), np.ones(ck_owner.size)),
            (
                "add_to_cart",
                cart_owner,
                rng.uniform(0, 72.0, cart_owner.size),
                np.ones(cart_owner.size),
            ),
            ("purchase", buy_owner, rng.uniform(0, 72.0, buy_owner.size), amount[buy_owner]),
        ]
        owner = np.concatenate([p[1] for p in parts])
        events = pd.DataFrame(
            {
                "event_id": np.arange(first_event, first_event + owner.size, dtype=np.int64),
                "unit_id": codes_to_labels(owner, ids),
                "event": codes_to_labels(
                    np.repeat(np.arange(len(parts), dtype=np.int8), [p[1].size for p in parts]),
                    [p[0] for p in parts],
                ),
                "ts": timestamps(first_ts[owner], np.concatenate([p[2] for p in parts])),
                "value": np.concatenate([p[3] for p in parts]),
            }
        )
        visitor = np.where(returning, "returning", "new")
        names = np.array(["control", "ml_recs"])
        exposures = pd.DataFrame(
            {
                "unit_id": ids,
                "variant": names[variant],
                "ts": first_ts,
                "device": DEVICES[dev],
                "visitor": visitor,
            }
        )
        units = pd.DataFrame(
            {
                "unit_id": ids,
                "device": DEVICES[dev],
                "visitor": visitor,
                "pre_pages": pre_pages.astype(np.float64),
            }
        )
        return SimChunk(exposures=exposures, events=events, units=units)

"""The interleaving block of an analysis: the preference between two rankers, its test and
intervals, the counts behind it and the sessions an A/B test would need instead."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shipit.result._values import Num

__all__ = ["InterleavingResult"]


class InterleavingResult(BaseModel):
    """Team-draft interleaving of ``control`` (ranker A) and ``variant`` (ranker B).

    ``preference`` is the share of decisive sessions (more credited clicks for one ranker)
    that prefer the variant, with its exact (Clopper–Pearson) interval and the two-sided
    exact sign test of ½; ``unit_ci_low``/``unit_ci_high`` give the same share with a
    unit-clustered (delta method) interval. ``delta`` is (variant wins − control wins) /
    sessions. ``sessions_needed`` and ``ab_sessions_needed`` are the sessions interleaving and
    an A/B test need to detect the observed difference at the plan's α with ``power``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = "team_draft"
    control: str
    variant: str
    click_event: str
    credit: str = "items"
    max_position: int | None = None
    click_window_minutes: int = 30
    sessions: int = 0
    units: int = 0
    decisive: int = 0
    wins_control: int = 0
    wins_variant: int = 0
    ties: int = 0
    preference: Num = None
    ci_low: Num = None
    ci_high: Num = None
    p_value: Num = None
    unit_ci_low: Num = None
    unit_ci_high: Num = None
    delta: Num = None
    impressions: int = 0
    clicks_matched: int = 0
    clicks_unmatched: int = 0
    unknown_rankers: int = 0
    clicks_outside_window: int = 0
    power: float = 0.8
    sessions_needed: Num = None
    ab_sessions_needed: Num = None
    ab_ratio: Num = None

"""The recommender scenario: a new recommender on a movie platform, with a known truth.

Watch time (primary) rises 7% overall, 3 points more for light users, plus a novelty bump
that decays over each unit's first week; sessions (guardrail) fall 2%. Engagement is heavy
tailed (log-normal activity × log-normal minutes). Four pre-period covariates are recorded
per unit, and assignment is stratified on pre-period activity deciles. An engineered
"unlucky draw" sends more of the heaviest pre-period users to the variant, so that the raw
lift reads about +13%; since those users are heavy before the experiment too, the balance
check sees it and CUPED on the pre-period covariates corrects it.

The recorded truths are for the uncapped metrics. Winsorizing watch time at the pooled
99th percentile (``winsorize=0.99``) caps the heaviest units, which carry the unlucky draw
and a large share of the lift, so it estimates a different, smaller effect (about +5% here
rather than +7%); the scenario therefore leaves it off unless asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shipit.assign.designs import stratified
from shipit.errors import InputError
from shipit.sim._base import (
    START,
    GuardrailDef,
    ScenarioInfo,
    SimChunk,
    codes_to_labels,
    timestamps,
    unit_ids,
)
from shipit.spec.metric import Covariate, MetricDef, Window
from shipit.stats.normal import normal_cdf, normal_ppf

__all__ = ["Recommender"]

WINDOW_DAYS = 14
ENTRY_DAYS = 14
SESSIONS_PER_DAY = 0.8
MINUTES = 30.0
MINUTES_SIGMA = 0.6
ACTIVITY_SIGMA = 1.0
PRE_NOISE = 0.05  # log-scale noise of the pre-period watch time around the latent activity
NOVELTY = 0.15  # extra relative lift on an exposure's first day
NOVELTY_DAYS = 2.0  # its decay constant
LIGHT_SHARE = 0.3  # bottom activity deciles 0-2 are "light" users
LIGHT_EXTRA = 0.03
COVARIATES = ("pre_watch_time", "pre_sessions", "pre_days_active", "tenure_days")


def _mean_novelty() -> float:
    """Average novelty bump over a unit's window (sessions uniform over the window)."""
    return NOVELTY * NOVELTY_DAYS / WINDOW_DAYS * (1 - math.exp(-WINDOW_DAYS / NOVELTY_DAYS))


@dataclass(frozen=True)
class Recommender:
    """Scenario parameters; ``activity`` (optional) replaces the log-normal latent activity
    with an empirical distribution (e.g. MovieLens users' rating counts), resampled."""

    lift: float = 0.07
    sessions_effect: float = -0.02
    raw_lift: float | None = 0.13
    activity: tuple[float, ...] | None = None
    minutes_scale: tuple[float, ...] | None = None
    winsorize: float | None = None

    def _light_share(self) -> float:
        """Share of expected control watch time from light users (bottom 30% pre-activity)."""
        if self.activity is None:
            s2 = ACTIVITY_SIGMA**2 + PRE_NOISE**2
            q = math.sqrt(s2) * float(normal_ppf(LIGHT_SHARE))
            # Under the size-biased measure log a ~ N(σ², σ²): P(log a + η < q).
            return float(normal_cdf((q - ACTIVITY_SIGMA**2) / math.sqrt(s2)))
        a = np.asarray(self.activity, dtype=np.float64)
        m = np.ones_like(a) if self.minutes_scale is None else np.asarray(self.minutes_scale)
        q = float(np.quantile(np.log(a * m), LIGHT_SHARE))
        p_light = normal_cdf((q - np.log(a * m)) / PRE_NOISE)
        return float(np.sum(a * m * p_light) / np.sum(a * m))

    def _tau_heavy(self) -> float:
        return self.lift - LIGHT_EXTRA * self._light_share() - _mean_novelty()

    def info(self) -> ScenarioInfo:
        """Metrics, guardrail and the recorded truth of this scenario."""
        covs = tuple(Covariate(name=c, column=c) for c in COVARIATES)
        window = Window(start_hours=0.0, end_hours=WINDOW_DAYS * 24.0)
        metrics = (
            MetricDef(
                name="watch_time",
                description="minutes watched in the 14 days after first exposure",
                event="watch",
                aggregation="sum",
                window=window,
                winsorize=self.winsorize,
                covariates=covs,
            ),
            MetricDef(
                name="sessions",
                description="viewing sessions in the 14 days after first exposure",
                event="watch",
                aggregation="count",
                window=window,
                covariates=covs,
            ),
        )
        tau_h = self._tau_heavy()
        nov = _mean_novelty()
        truth = {
            "watch_time": self.lift,
            "sessions": self.sessions_effect,
            "watch_time@activity=light": tau_h + LIGHT_EXTRA + nov,
            "watch_time@activity=medium": tau_h + nov,
            "watch_time@activity=heavy": tau_h + nov,
            "watch_time_steady_state@activity=heavy": tau_h,
            "watch_time_novelty_day0": NOVELTY,
        }
        return ScenarioInfo(
            name="recommender",
            description="new recommender on a movie platform: watch time up, sessions down",
            variants=("control", "new_recommender"),
            weights=(0.5, 0.5),
            primary="watch_time",
            metrics=metrics,
            guardrails=(GuardrailDef("sessions", 0.02, relative=True),),
            segments=("activity",),
            covariates=COVARIATES,
            true_effects=truth,
            mde=0.02,
            days=ENTRY_DAYS + WINDOW_DAYS,
        )

    def chunk(
        self, rng: np.random.Generator, first_unit: int, n: int, first_event: int
    ) -> SimChunk:
        """``n`` units with their exposures and watch events."""
        if self.activity is None:
            a = rng.lognormal(0.0, ACTIVITY_SIGMA, n)
            scale = np.ones(n)
        else:
            pick = rng.integers(0, len(self.activity), n)
            a = np.asarray(self.activity, dtype=np.float64)[pick]
            scale = (
                np.ones(n)
                if self.minutes_scale is None
                else np.asarray(self.minutes_scale, dtype=np.float64)[pick]
            )
        level = a * scale
        pre_days = 14
        pre_watch = level * pre_days * SESSIONS_PER_DAY * MINUTES * rng.lognormal(0, PRE_NOISE, n)
        pre_sessions = rng.poisson(a * SESSIONS_PER_DAY * pre_days)
        pre_active = rng.binomial(pre_days, 1.0 - np.exp(-SESSIONS_PER_DAY * a))
        tenure = np.round(rng.lognormal(np.log(300.0) + 0.3 * np.log(a), 0.8))

        ranks = np.argsort(np.argsort(pre_watch, kind="stable"), kind="stable")
        decile = (ranks * 10 // n).astype(np.int64)
        ids = unit_ids(first_unit, n)
        # Balanced within pre-period deciles by the platform's own stratified design; the
        # salt comes from the seeded generator, so the draw is repeatable.
        salt = f"recommender-sim-{rng.integers(2**62)}"
        picked = stratified(ids.to_numpy(), decile, ("0", "1"), (0.5, 0.5), salt=salt)
        variant = (picked == "1").astype(np.int64)
        if self.raw_lift is not None and n >= 100:
            variant = _tilt(
                rng, variant, decile, pre_watch, level, (1 + self.raw_lift) / (1 + self.lift)
            )
        activity = np.where(decile < 3, "light", np.where(decile < 7, "medium", "heavy"))

        entry_h = rng.uniform(0.0, ENTRY_DAYS * 24.0, n)
        base = np.datetime64(START.to_datetime64(), "ns")
        first_ts = timestamps(np.full(n, base), entry_h)

        treated = variant == 1
        lam = a * SESSIONS_PER_DAY * WINDOW_DAYS * np.where(treated, 1 + self.sessions_effect, 1.0)
        sessions = rng.poisson(lam)
        owner = np.repeat(np.arange(n), sessions)
        day = rng.uniform(0.0, WINDOW_DAYS, owner.size)
        mu = -(MINUTES_SIGMA**2) / 2
        minutes = MINUTES * scale[owner] * rng.lognormal(mu, MINUTES_SIGMA, owner.size)
        tau = self._tau_heavy() + LIGHT_EXTRA * (decile[owner] < 3)
        lift = (1 + tau + NOVELTY * np.exp(-day / NOVELTY_DAYS)) / (1 + self.sessions_effect)
        minutes = np.where(treated[owner], minutes * lift, minutes)

        names = np.array(["control", "new_recommender"])
        exposures = pd.DataFrame(
            {"unit_id": ids, "variant": names[variant], "ts": first_ts, "activity": activity}
        )
        events = pd.DataFrame(
            {
                "event_id": np.arange(first_event, first_event + owner.size, dtype=np.int64),
                "unit_id": codes_to_labels(owner, ids),
                "event": codes_to_labels(np.zeros(owner.size, np.int8), ["watch"]),
                "ts": timestamps(first_ts[owner], day * 24.0),
                "value": minutes,
            }
        )
        units = pd.DataFrame(
            {
                "unit_id": ids,
                "activity": activity,
                "activity_decile": decile,
                "pre_watch_time": pre_watch,
                "pre_sessions": pre_sessions.astype(np.float64),
                "pre_days_active": pre_active.astype(np.float64),
                "tenure_days": tenure,
            }
        )
        return SimChunk(exposures=exposures, events=events, units=units)


def _tilt(
    rng: np.random.Generator,
    variant: np.ndarray,
    decile: np.ndarray,
    pre: np.ndarray,
    level: np.ndarray,
    target: float,
) -> np.ndarray:
    """The unlucky draw: inside the top decile, send the M heaviest pre-period users to the
    variant and the M lightest to control, M chosen so that the arms' mean latent level has
    the ``target`` ratio. Arm sizes stay as they were."""
    top = np.flatnonzero(decile == 9)
    top = top[np.argsort(-pre[top])]
    order = rng.permutation(top.size)

    def assign(m: int) -> np.ndarray:
        out = variant.copy()
        mid = top[m : top.size - m]
        out[top[:m]] = 1
        out[top[top.size - m :]] = 0
        # The middle keeps an even split in a random order.
        mid_perm = mid[np.argsort(order[m : top.size - m])]
        out[mid_perm] = np.arange(mid_perm.size) % 2
        return out

    def ratio(v: np.ndarray) -> float:
        return float(level[v == 1].mean() / level[v == 0].mean())

    lo, hi = 0, top.size // 2
    if ratio(assign(hi)) < target:
        raise InputError(f"cannot reach a raw/true ratio of {target:.3f} with {variant.size} units")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ratio(assign(mid)) < target else (lo, mid)
    return assign(hi)


def from_movielens(directory: str | Path, **kwargs: float | None) -> Recommender:
    """The recommender on real behaviour: MovieLens users' activity as the control arm.

    Each MovieLens user's number of ratings sets a unit's activity level and their mean
    rating (relative to everyone's) its minutes per session; units resample those users.
    """
    path = Path(directory)
    ratings_file, movies_file = path / "ratings.csv", path / "movies.csv"
    for f in (ratings_file, movies_file):
        if not f.is_file():
            raise InputError(f"MovieLens directory {path} has no {f.name}")
    try:
        ratings = pd.read_csv(ratings_file, usecols=["userId", "movieId", "rating"])
        movies = pd.read_csv(movies_file, usecols=["movieId", "genres"])
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not MovieLens ratings.csv/movies.csv ({exc})") from exc
    # Films with more genres are longer sessions on average in this model.
    genres = movies.set_index("movieId")["genres"].str.count(r"\|") + 1
    ratings["weight"] = ratings["movieId"].map(genres).fillna(1.0)
    per_user = ratings.groupby("userId").agg(
        count=("rating", "size"), rating=("rating", "mean"), weight=("weight", "mean")
    )
    activity = per_user["count"] / per_user["count"].mean()
    scale = (per_user["rating"] * per_user["weight"]) / (
        per_user["rating"] * per_user["weight"]
    ).mean()
    return Recommender(
        activity=tuple(activity.to_numpy(dtype=float)),
        minutes_scale=tuple(scale.to_numpy(dtype=float)),
        **kwargs,  # type: ignore[arg-type]
    )

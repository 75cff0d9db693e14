"""The numbers of an interleaving experiment, from per-session and per-unit sums.

A session prefers ranker B when B's items got more credited clicks than A's, A when fewer;
it is a tie otherwise (no clicks, or as many each). The preference share is the share of
decisive sessions preferring B: under equally good rankers each decisive session prefers B
with probability ½, so the exact binomial (sign) test of ½ on the decisive sessions tests
it, with the exact Clopper–Pearson interval. Sessions of one unit may be correlated, so
the share is also given with a unit-clustered interval (delta method on per-unit sums).

Sessions needed against an A/B test, for the difference observed (``sessions_needed``):
interleaving needs the decisive sessions that give the sign test its power at the observed
share, divided by the observed share of decisive sessions. The A/B test compares clicks
per session between two halves of the traffic: its effect is taken to be the observed
difference in credited clicks per session (B − A), its per-session variance that of the
clicks per session of the interleaved lists, and it needs 2·(z₁₋α/₂ + z_power)²·2σ²/δ²
sessions in all (two arms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shipit.errors import InputError
from shipit.stats.normal import binomial_test, normal_ppf

__all__ = [
    "PreferenceEstimate",
    "SessionSums",
    "SessionsNeeded",
    "UnitSums",
    "preference",
    "sessions_needed",
]


@dataclass(frozen=True)
class SessionSums:
    """Per-session sums: sessions, wins of each ranker, and over sessions the sums of the
    credited-click difference d = B − A, of d², of the clicks t = A + B and of t²."""

    sessions: int
    wins_a: int
    wins_b: int
    sum_diff: float = 0.0
    sum_diff_sq: float = 0.0
    sum_clicks: float = 0.0
    sum_clicks_sq: float = 0.0


@dataclass(frozen=True)
class UnitSums:
    """Per-unit sums over units u: their number, Σd_u and Σd_u² of decisive sessions,
    Σw_u and Σw_u² of sessions won by B, and Σw_u·d_u."""

    units: int
    sum_decisive: float
    sum_decisive_sq: float
    sum_wins_b: float
    sum_wins_b_sq: float
    sum_cross: float


@dataclass(frozen=True)
class PreferenceEstimate:
    """The preference share of B with its exact interval and sign-test p-value; the same
    share with a unit-clustered interval; and Δ = (wins B − wins A) / sessions."""

    sessions: int
    decisive: int
    wins_a: int
    wins_b: int
    ties: int
    share_b: float
    ci_low: float
    ci_high: float
    p_value: float
    delta: float
    units: int | None = None
    unit_ci_low: float | None = None
    unit_ci_high: float | None = None


@dataclass(frozen=True)
class SessionsNeeded:
    """Sessions each design needs to detect the observed difference at ``alpha`` with
    ``power``; None where the observed difference is nil (nothing to detect)."""

    alpha: float
    power: float
    interleaving: float | None
    ab: float | None

    @property
    def ratio(self) -> float | None:
        """A/B sessions per interleaved session needed."""
        if self.interleaving is None or self.ab is None or self.interleaving <= 0:
            return None
        return self.ab / self.interleaving


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")


def _unit_interval(share: float, u: UnitSums, alpha: float) -> tuple[float | None, float | None]:
    """Delta-method interval of the ratio Σw_u / Σd_u over units (cluster-robust)."""
    if u.units < 2 or u.sum_decisive <= 0:
        return None, None
    resid_sq = u.sum_wins_b_sq - 2 * share * u.sum_cross + share**2 * u.sum_decisive_sq
    var = max(resid_sq, 0.0) / u.sum_decisive**2 * u.units / (u.units - 1)
    half = float(normal_ppf(1 - alpha / 2)) * math.sqrt(var)
    return max(0.0, share - half), min(1.0, share + half)


def preference(
    s: SessionSums, *, alpha: float = 0.05, units: UnitSums | None = None
) -> PreferenceEstimate:
    """The preference share of B over the decisive sessions, its test and intervals."""
    _check_alpha(alpha)
    if s.sessions < 0 or s.wins_a < 0 or s.wins_b < 0 or s.wins_a + s.wins_b > s.sessions:
        raise InputError(
            f"wins ({s.wins_a} A, {s.wins_b} B) must be non-negative and at most the "
            f"{s.sessions} sessions"
        )
    decisive = s.wins_a + s.wins_b
    if decisive == 0:
        share, lo, hi, p = math.nan, 0.0, 1.0, 1.0
    else:
        t = binomial_test(s.wins_b, decisive, level=1 - alpha)
        share, lo, hi, p = t.share, t.lower, t.upper, t.p_value
    ulo, uhi = _unit_interval(share, units, alpha) if units and decisive else (None, None)
    return PreferenceEstimate(
        sessions=s.sessions,
        decisive=decisive,
        wins_a=s.wins_a,
        wins_b=s.wins_b,
        ties=s.sessions - decisive,
        share_b=share,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        delta=(s.wins_b - s.wins_a) / s.sessions if s.sessions else math.nan,
        units=units.units if units else None,
        unit_ci_low=ulo,
        unit_ci_high=uhi,
    )


def sign_test_sessions(share: float, alpha: float, power: float) -> float:
    """Decisive sessions for the two-sided sign test to detect P(B) = ``share`` against ½
    (Normal approximation to the binomial)."""
    if not 0.0 < share < 1.0 or share == 0.5:
        raise InputError(f"share must lie in (0, 1) and differ from ½, got {share}")
    za, zb = normal_ppf(1 - alpha / 2), normal_ppf(power)
    return float(((za * 0.5 + zb * math.sqrt(share * (1 - share))) / (share - 0.5)) ** 2)


def sessions_needed(s: SessionSums, *, alpha: float = 0.05, power: float = 0.8) -> SessionsNeeded:
    """Sessions interleaving and an A/B test need for the difference observed in ``s``
    (see the module docstring for the method)."""
    _check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise InputError(f"power must be between 0 and 1, got {power}")
    decisive = s.wins_a + s.wins_b
    il: float | None = None
    if decisive and s.wins_a != s.wins_b and 0 < s.wins_b < decisive:
        il = sign_test_sessions(s.wins_b / decisive, alpha, power) * s.sessions / decisive
    ab: float | None = None
    if s.sessions >= 2:
        delta = s.sum_diff / s.sessions
        mean = s.sum_clicks / s.sessions
        var = max(s.sum_clicks_sq - s.sessions * mean**2, 0.0) / (s.sessions - 1)
        if delta != 0 and var > 0:
            z = normal_ppf(1 - alpha / 2) + normal_ppf(power)
            ab = float(2 * z**2 * 2 * var / delta**2)
    return SessionsNeeded(alpha=alpha, power=power, interleaving=il, ab=ab)

"""The interleaving analysis against known truth: counts from the engine equal counts made
by hand, the p-value is scipy's binomial test, the interval covers the exact preference in
about 95% of seeded runs, and the sessions needed give the power they promise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from shipit.analysis.interleaving import analyze_interleaving, interleaving_result
from shipit.bandits.interleaving import credit, team_draft_batch
from shipit.errors import DataError, InputError
from shipit.sim.interleaving import simulate_interleaving, textbook_pair
from shipit.sim.interleaving_events import interleaving_events, true_preference
from shipit.spec import Experiment
from shipit.stats.interleaving import SessionSums, UnitSums, preference, sessions_needed
from shipit.store.engine import Engine, connect
from shipit.store.tables import TABLES

PAIR = textbook_pair()  # B is better: CTR 0.25 against 0.20
SPEC: dict[str, Any] = {
    "key": "interleaving-sim",
    "type": "interleaving",
    "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "interleaving": {"click_event": "click"},
}


def _engine(table: pa.Table) -> Engine:
    engine = connect(":memory:")
    engine.append(TABLES["events"], table.to_batches())
    return engine


def _by_hand(table: pa.Table) -> tuple[int, int, int]:
    """Sessions and wins of A and B counted in Python from the event rows."""
    rows = table.to_pylist()
    team = {(r["session_id"], r["item_id"]): r["ranker"] for r in rows if r["ranker"]}
    sessions = {r["session_id"] for r in rows if r["ranker"]}
    got: dict[str, dict[str, int]] = {s: {"a": 0, "b": 0} for s in sessions}
    for r in rows:
        if r["event"] == "click" and (r["session_id"], r["item_id"]) in team:
            got[r["session_id"]][team[(r["session_id"], r["item_id"])]] += 1
    wins_a = sum(g["a"] > g["b"] for g in got.values())
    wins_b = sum(g["b"] > g["a"] for g in got.values())
    return len(sessions), wins_a, wins_b


def test_engine_counts_and_p_value_match_scipy() -> None:
    table = interleaving_events(PAIR, sessions=3000, units=600, seed=3)
    result, _ = interleaving_result(Experiment.model_validate(SPEC), _engine(table))
    sessions, wins_a, wins_b = _by_hand(table)
    assert (result.sessions, result.wins_control, result.wins_variant) == (sessions, wins_a, wins_b)
    ref = stats.binomtest(wins_b, wins_a + wins_b, 0.5)
    ci = ref.proportion_ci(0.95, method="exact")
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert result.units == 600
    assert result.impressions == table.num_rows - int(np.sum(table["event"].to_numpy() == "click"))


@pytest.mark.slow
def test_the_better_ranker_is_found_through_the_store() -> None:
    decisive, truth = true_preference(PAIR)
    covered = 0
    runs = 20
    for seed in range(runs):
        table = interleaving_events(PAIR, sessions=2000, units=400, seed=100 + seed)
        a = analyze_interleaving(Experiment.model_validate(SPEC), _engine(table))
        r = a.interleaving
        assert r is not None
        assert r.preference is not None
        assert r.preference > 0.5
        covered += r.ci_low <= truth <= r.ci_high
        assert r.decisive / r.sessions == pytest.approx(decisive, abs=0.05)
    assert covered >= 17  # ~95% of 20: P(fewer than 17 | 95%) < 2%


@pytest.mark.slow
def test_interval_covers_the_true_preference_in_95_percent_of_runs() -> None:
    """400 seeded runs of 1,000 sessions (the numerics alone, from simulated counts)."""
    _, truth = true_preference(PAIR)
    runs, sessions = 400, 1000
    rng = np.random.default_rng(11)
    docs, teams = team_draft_batch(
        np.broadcast_to(PAIR.ranking_a, (runs * sessions, PAIR.ranking_a.size)),
        np.broadcast_to(PAIR.ranking_b, (runs * sessions, PAIR.ranking_b.size)),
        PAIR.length,
        seed=rng,
    )
    wanted = rng.choice(PAIR.target.size, size=runs * sessions, p=PAIR.target)
    ca, cb = credit(teams, docs == wanted[:, None])
    wins_a = (ca > cb).reshape(runs, sessions).sum(axis=1)
    wins_b = (cb > ca).reshape(runs, sessions).sum(axis=1)
    exact = unit = 0
    for wa, wb in zip(wins_a.tolist(), wins_b.tolist(), strict=True):
        # Every session its own unit: the clustered interval is the delta method on sessions.
        d = wa + wb
        units = UnitSums(sessions, d, d, wb, wb, wb)
        est = preference(SessionSums(sessions, wa, wb), units=units)
        exact += est.ci_low <= truth <= est.ci_high
        assert est.unit_ci_low is not None
        assert est.unit_ci_high is not None
        unit += est.unit_ci_low <= truth <= est.unit_ci_high
    assert 0.93 <= exact / runs <= 0.985  # Clopper–Pearson is a little conservative
    assert 0.925 <= unit / runs <= 0.975


def test_unit_interval_widens_when_a_unit_s_sessions_agree() -> None:
    """Units whose sessions all prefer the same ranker: the sessions are not independent,
    and the clustered interval is wider than the exact one by about √(sessions per unit)."""
    per_unit, units = 4, 300
    rng = np.random.default_rng(5)
    prefers_b = rng.random(units) < 0.6
    w = np.where(prefers_b, per_unit, 0).astype(float)
    d = np.full(units, float(per_unit))
    est = preference(
        SessionSums(units * per_unit, int(d.sum() - w.sum()), int(w.sum())),
        units=UnitSums(units, d.sum(), (d * d).sum(), w.sum(), (w * w).sum(), (w * d).sum()),
    )
    assert est.unit_ci_high is not None
    assert est.unit_ci_low is not None
    ratio = (est.unit_ci_high - est.unit_ci_low) / (est.ci_high - est.ci_low)
    assert ratio == pytest.approx(np.sqrt(per_unit), rel=0.1)


def _expected_sums(sessions: int) -> SessionSums:
    """The sums ``sessions`` sessions of the textbook pair give in expectation (one click
    at most per session, so clicks² = clicks and d² = |d|)."""
    decisive, share = true_preference(PAIR)
    wins_b, wins_a = sessions * decisive * share, sessions * decisive * (1 - share)
    return SessionSums(
        sessions,
        round(wins_a),
        round(wins_b),
        wins_b - wins_a,
        decisive * sessions,
        decisive * sessions,
        decisive * sessions,
    )


@pytest.mark.slow
def test_sessions_needed_give_the_power_they_promise() -> None:
    """At the sessions it names for the true difference, each design detects it about 80%
    of the time (400 seeded runs of each); estimated from 20,000 sessions in the store, the
    numbers are within 25% of those."""
    need = sessions_needed(_expected_sums(100_000))
    assert need.interleaving is not None
    assert need.ab is not None
    il = simulate_interleaving(PAIR, sessions=round(need.interleaving), runs=400, seed=1)
    ab = simulate_interleaving(PAIR, sessions=round(need.ab), runs=400, seed=2)
    assert il.power_interleaving == pytest.approx(0.8, abs=0.06)
    assert ab.power_ab == pytest.approx(0.8, abs=0.06)
    table = interleaving_events(PAIR, sessions=20_000, units=20_000, seed=8)
    result, _ = interleaving_result(Experiment.model_validate(SPEC), _engine(table))
    assert result.sessions_needed == pytest.approx(need.interleaving, rel=0.25)
    assert result.ab_sessions_needed == pytest.approx(need.ab, rel=0.25)
    assert result.ab_ratio is not None
    assert result.ab_ratio > 2  # interleaving needs far fewer sessions


def test_sessions_needed_has_nothing_to_detect_without_a_difference() -> None:
    need = sessions_needed(SessionSums(100, 10, 10, 0.0, 20.0, 20.0, 20.0))
    assert need.interleaving is None
    assert need.ab is None
    assert need.ratio is None


def test_bad_counts_and_levels_are_refused() -> None:
    with pytest.raises(InputError, match="at most the 5 sessions"):
        preference(SessionSums(5, 4, 4))
    with pytest.raises(InputError, match="alpha must be between 0 and 1"):
        preference(SessionSums(5, 1, 1), alpha=1.5)
    with pytest.raises(InputError, match="power must be between 0 and 1"):
        sessions_needed(SessionSums(5, 1, 2), power=1.0)


def test_an_empty_store_is_a_clear_error() -> None:
    exp = Experiment.model_validate(SPEC)
    with pytest.raises(DataError, match="the store has no events table"):
        analyze_interleaving(exp, connect(":memory:"))
    plain = pa.table({"event_id": ["e1"], "unit_id": ["u1"], "event": ["click"]})
    with pytest.raises(DataError, match="no 'experiment' column"):
        analyze_interleaving(exp, _engine(plain))
    table = interleaving_events(PAIR, sessions=10, units=5, seed=1, experiment="other")
    with pytest.raises(DataError, match="has no 'interleaving_impression' impressions"):
        analyze_interleaving(exp, _engine(table))


def test_credit_rules_change_what_counts() -> None:
    """Clicks on positions below ``max_position`` credit no one; ``count: clicks`` counts
    a repeated click on one item twice."""
    table = interleaving_events(PAIR, sessions=500, units=100, seed=4)
    base = interleaving_result(Experiment.model_validate(SPEC), _engine(table))[0]
    top1 = {**SPEC, "interleaving": {"click_event": "click", "credit": {"max_position": 1}}}
    first = interleaving_result(Experiment.model_validate(top1), _engine(table))[0]
    assert first.decisive < base.decisive
    rows = table.to_pylist()
    click = next(r for r in rows if r["event"] == "click")
    again = pa.concat_tables(
        [table, pa.Table.from_pylist([{**click, "event_id": "again"}], table.schema)]
    )
    clicks = {**SPEC, "interleaving": {"click_event": "click", "credit": {"count": "clicks"}}}
    items_result = interleaving_result(Experiment.model_validate(SPEC), _engine(again))[0]
    clicks_result = interleaving_result(Experiment.model_validate(clicks), _engine(again))[0]
    assert items_result.delta == base.delta
    assert clicks_result.delta == base.delta  # one click more cannot flip a one-click win
    assert clicks_result.clicks_matched == base.clicks_matched + 1


def test_impressions_before_the_phase_start_are_left_out() -> None:
    table = interleaving_events(PAIR, sessions=50, units=10, seed=1)
    exp = Experiment.model_validate(SPEC)
    engine = _engine(table)
    before = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    assert interleaving_result(exp, engine, phase_start=before)[0].sessions == 50
    with pytest.raises(DataError, match="no 'interleaving_impression' impressions"):
        interleaving_result(exp, engine, phase_start=datetime(2026, 1, 5, 13, 0, tzinfo=UTC))

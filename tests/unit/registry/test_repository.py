"""Registry: lifecycle, phases, audit log, conflicts; refused changes leave state untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shipit.errors import ConflictError, NotFoundError, SpecError, StateError
from shipit.registry import Decision, SqlAlchemyRepository, Status, open_registry
from shipit.spec import Experiment


def _exp(key: str = "exp", **kw: Any) -> Experiment:
    data: dict[str, Any] = {
        "key": key,
        "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    }
    data.update(kw)
    return Experiment.model_validate(data)


def _snapshot(repo: SqlAlchemyRepository, key: str) -> tuple[Any, ...]:
    record = repo.get(key)
    return (record, repo.phases(key), repo.audit(key))


def test_default_database_is_the_project_sqlite_file(tmp_path: Path) -> None:
    repo = open_registry()
    repo.create(_exp())
    repo.close()
    assert (tmp_path / ".shipit" / "shipit.db").is_file()
    assert open_registry().get("exp").status is Status.DRAFT


def test_full_lifecycle_with_audit(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp(), actor="ana")
    assert registry.start("exp", actor="ana").status is Status.RUNNING
    assert registry.stop("exp", actor="bo").status is Status.STOPPED
    decided = registry.decide("exp", "ship", actor="bo")
    assert decided.status is Status.DECIDED
    assert decided.decision is Decision.SHIP
    assert registry.archive("exp").status is Status.ARCHIVED
    entries = registry.audit("exp")
    assert [e.action for e in entries] == ["create", "start", "stop", "decide", "archive"]
    assert [e.actor for e in entries[:3]] == ["ana", "ana", "bo"]
    assert entries[3].details == {"decision": "ship"}
    assert all(e.at.tzinfo is not None for e in entries)
    assert [r.key for r in registry.list_experiments(Status.ARCHIVED)] == ["exp"]


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ([], "stop", "cannot stop experiment 'exp': it is draft"),
        ([], "decide", "cannot decide experiment 'exp': it is draft"),
        (["start"], "start", "cannot start experiment 'exp': it is running"),
        (["start"], "archive", "cannot archive experiment 'exp': it is running"),
        (["start", "stop"], "start", "cannot start experiment 'exp': it is stopped"),
    ],
)
def test_transitions_are_enforced(
    registry: SqlAlchemyRepository, steps: list[str], action: str, message: str
) -> None:
    registry.create(_exp())
    for step in steps:
        getattr(registry, step)("exp")
    before = _snapshot(registry, "exp")
    call = (lambda: registry.decide("exp", Decision.KILL)) if action == "decide" else None
    with pytest.raises(StateError, match=message):
        call() if call is not None else getattr(registry, action)("exp")
    assert _snapshot(registry, "exp") == before


def test_unknown_key_and_duplicate_key(registry: SqlAlchemyRepository) -> None:
    with pytest.raises(NotFoundError, match="no experiment 'nope'"):
        registry.get("nope")
    registry.create(_exp())
    with pytest.raises(ConflictError, match="already exists"):
        registry.create(_exp())
    with pytest.raises(SpecError, match="unknown decision 'maybe'"):
        registry.decide("exp", "maybe")


def test_randomization_change_needs_a_new_phase(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp())
    registry.start("exp")
    before = _snapshot(registry, "exp")
    uneven = [{"key": "control", "weight": 0.3}, {"key": "b", "weight": 0.7}]
    for change in ({"variants": uneven}, {"salt": "new"}, {"unit": "device_id"}):
        with pytest.raises(StateError, match="without a new phase"):
            registry.update(_exp(**change))
        assert _snapshot(registry, "exp") == before
    with pytest.raises(SpecError, match="needs a reason"):
        registry.update(_exp(variants=uneven), new_phase=True)
    assert _snapshot(registry, "exp") == before
    record = registry.update(_exp(variants=uneven), actor="ana", new_phase=True, reason="rebal")
    assert record.phase is not None
    assert record.phase.number == 2
    assert record.phase.weights == {"control": 0.3, "b": 0.7}
    assert record.phase.reason == "rebal"
    first, second = registry.phases("exp")
    assert first.ended_at == second.started_at
    entry = registry.audit("exp")[-1]
    assert entry.action == "update"
    assert entry.details["phase"] == {"number": 2, "reason": "rebal"}
    assert "variants" in entry.details["changes"]


def test_traffic_ramp_opens_a_phase_and_text_edits_do_not(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp(traffic=0.1))
    registry.start("exp")
    registry.update(_exp(traffic=0.1, hypothesis="clearer words"))
    assert len(registry.phases("exp")) == 1
    record = registry.update(_exp(traffic=0.5))
    assert record.phase is not None
    assert (record.phase.number, record.phase.traffic) == (2, 0.5)
    assert record.phase.reason == "traffic 0.1 -> 0.5"
    record = registry.update(_exp(traffic=0.5, targeting={"attribute": "c", "eq": "US"}))
    assert record.phase is not None
    assert (record.phase.number, record.phase.reason) == (3, "targeting changed")


def test_changes_after_stop_are_refused(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp())
    registry.start("exp")
    registry.stop("exp")
    before = _snapshot(registry, "exp")
    with pytest.raises(StateError, match="it is stopped"):
        registry.update(_exp(name="late"))
    assert _snapshot(registry, "exp") == before
    assert registry.get("exp").phase is None


def _ns(key: str, lo: float, hi: float, **kw: Any) -> Experiment:
    return _exp(key, namespace={"name": "search", "range": [lo, hi]}, **kw)


def test_start_refuses_overlap_and_names_the_conflicts(registry: SqlAlchemyRepository) -> None:
    for exp in (_ns("a", 0, 0.4), _ns("b", 0.3, 0.6), _ns("c", 0.6, 1), _ns("d", 0.2, 0.7)):
        registry.create(exp)
    registry.start("a")
    registry.start("c")
    with pytest.raises(ConflictError, match=r"overlaps running experiments .*: a \[0.0, 0.4\]$"):
        registry.start("b")
    before = _snapshot(registry, "d")
    with pytest.raises(ConflictError, match=r": a \[0.0, 0.4\], c \[0.6, 1.0\]"):
        registry.start("d")
    assert _snapshot(registry, "d") == before
    assert registry.get("d").status is Status.DRAFT


def test_disjoint_targeting_may_share_a_range(registry: SqlAlchemyRepository) -> None:
    us = {"attribute": "country", "eq": "US"}
    fr = {"attribute": "country", "in": ["FR", "DE"]}
    registry.create(_ns("us", 0, 1, targeting=us))
    registry.create(_ns("fr", 0, 1, targeting=fr))
    registry.create(_ns("all", 0, 1))
    registry.start("us")
    assert registry.start("fr").status is Status.RUNNING
    with pytest.raises(ConflictError, match=r"with overlapping targeting: fr \[0.0, 1.0\], us"):
        registry.start("all")


def test_audit_log_is_append_only(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp())
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            registry.engine.begin() as conn,
        ):
            conn.execute(sa.text(statement))
    assert [e.action for e in registry.audit("exp")] == ["create"]


def test_stored_spec_round_trips_with_shared_metrics(registry: SqlAlchemyRepository) -> None:
    from shipit.spec import load_experiment

    examples = Path(__file__).resolve().parents[3] / "examples"
    exp = load_experiment(examples / "search_ranking.yaml")
    registry.create(exp)
    assert registry.get(exp.key).experiment == exp


def test_disjoint_ranges_hashed_with_different_salts_conflict(
    registry: SqlAlchemyRepository,
) -> None:
    """Ranges are slices of the namespace hash: with another salt they share units."""
    registry.create(_ns("a", 0, 0.5))
    registry.create(_exp("b", namespace={"name": "search", "range": [0.5, 1], "salt": "other"}))
    registry.start("a")
    before = _snapshot(registry, "b")
    with pytest.raises(ConflictError, match=r"a \[0.0, 0.5\]"):
        registry.start("b")
    assert _snapshot(registry, "b") == before


def test_create_many_stores_all_or_none(registry: SqlAlchemyRepository) -> None:
    registry.create(_exp("b"))
    with pytest.raises(ConflictError, match=r"experiment 'b' already exists; nothing was created"):
        registry.create_many([_exp("a"), _exp("b"), _exp("c")])
    assert [r.key for r in registry.list_experiments()] == ["b"]
    assert [e.experiment_key for e in registry.audit()] == ["b"]
    with pytest.raises(ConflictError, match=r"'d' already exists"):
        registry.create_many([_exp("d"), _exp("d")])
    created = registry.create_many([_exp("a"), _exp("c")], actor="ana")
    assert [r.key for r in created] == ["a", "c"]
    assert [r.key for r in registry.list_experiments()] == ["a", "b", "c"]


def test_concurrent_overlapping_starts_cannot_both_pass(registry: SqlAlchemyRepository) -> None:
    """While another transaction holds the namespace, a start waits and then sees its result."""
    import threading
    import time

    from shipit.registry.conflicts import namespace_lock_key

    if registry.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the namespace lock is for PostgreSQL")
    registry.create(_ns("a", 0, 0.6))
    registry.create(_ns("b", 0.5, 1))
    outcome: list[BaseException | None] = []

    def start_b() -> None:
        try:
            registry.start("b")
            outcome.append(None)
        except BaseException as exc:  # handed to the main thread
            outcome.append(exc)

    with registry.engine.begin() as conn:  # another process starting "a" at the same moment
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": namespace_lock_key("search")}
        )
        thread = threading.Thread(target=start_b)
        thread.start()
        time.sleep(0.5)
        conn.execute(sa.text("UPDATE experiments SET status = 'running' WHERE key = 'a'"))
    thread.join(timeout=10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    assert registry.get("b").status is Status.DRAFT

"""Registry writes racing each other: both engines give the guarantees of one writer at a time.

Each race runs two threads with their own connections against a real SQLite file or a real
PostgreSQL schema. A hook sleeps after every read of the experiments table in those threads,
so that, without serialization, both would read before either writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from shipit.errors import ConflictError, StateError
from shipit.registry import SqlAlchemyRepository, Status
from shipit.spec import Experiment

RACER = "registry-racer"
PAUSE = 0.15


def _exp(key: str, **kw: Any) -> Experiment:
    data: dict[str, Any] = {
        "key": key,
        "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    }
    data.update(kw)
    return Experiment.model_validate(data)


@pytest.fixture
def slow_reads(registry: SqlAlchemyRepository) -> Iterator[None]:
    """Widen the window between a check and its write in the racing threads."""

    def pause(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        racing = threading.current_thread().name.startswith(RACER)
        if (
            racing
            and statement.lstrip().upper().startswith("SELECT")
            and "experiments" in statement
        ):
            time.sleep(PAUSE)

    sa.event.listen(registry.engine, "after_cursor_execute", pause)
    yield
    sa.event.remove(registry.engine, "after_cursor_execute", pause)


def _race(*calls: Callable[[], Any]) -> list[BaseException | None]:
    """Run the calls in threads released at the same moment; each one's error (or None)."""
    barrier = threading.Barrier(len(calls))
    outcome: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            calls[i]()
        except BaseException as exc:  # handed to the main thread
            outcome[i] = exc

    threads = [
        threading.Thread(target=run, args=(i,), name=f"{RACER}-{i}") for i in range(len(calls))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing write never finished"
    return outcome


@pytest.mark.usefixtures("slow_reads")
def test_overlapping_starts_at_the_same_moment_run_only_one(
    registry: SqlAlchemyRepository,
) -> None:
    for round_ in range(3):
        a, b = f"a{round_}", f"b{round_}"
        registry.create(_exp(a, namespace={"name": f"ns{round_}", "range": [0, 0.6]}))
        registry.create(_exp(b, namespace={"name": f"ns{round_}", "range": [0.5, 1]}))
        outcome = _race(partial(registry.start, a), partial(registry.start, b))
        statuses = [registry.get(k).status for k in (a, b)]
        assert statuses.count(Status.RUNNING) == 1, (round_, statuses, outcome)
        errors = [e for e in outcome if e is not None]
        assert len(errors) == 1
        assert isinstance(errors[0], ConflictError), errors[0]
        loser = (a, b)[outcome.index(errors[0])]
        assert registry.get(loser).phase is None
        assert [e.action for e in registry.audit(loser)] == ["create"]


@pytest.mark.usefixtures("slow_reads")
def test_a_start_racing_a_weight_change_records_the_weights_it_runs(
    registry: SqlAlchemyRepository,
) -> None:
    uneven = [{"key": "control", "weight": 0.2}, {"key": "b", "weight": 0.8}]
    for round_ in range(3):
        key = f"exp{round_}"
        registry.create(_exp(key))
        outcome = _race(
            partial(registry.start, key),
            partial(registry.update, _exp(key, variants=uneven)),
        )
        assert outcome[0] is None, outcome
        record = registry.get(key)
        assert record.status is Status.RUNNING
        assert record.phase is not None
        running = list(zip(record.experiment.variant_keys, record.experiment.weights, strict=True))
        assert list(record.phase.weights.items()) == running, (round_, outcome)
        if outcome[1] is None:  # the edit won the race: the start saw it
            assert running == [("control", 0.2), ("b", 0.8)]
        else:  # the start won: the edit of a running experiment needs a new phase
            assert isinstance(outcome[1], StateError), outcome[1]
            assert running == [("control", 0.5), ("b", 0.5)]

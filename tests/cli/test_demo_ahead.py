"""The demo's generator runs a chunk ahead in a thread: items come in order, an error in the
generator reaches the caller, and stopping early does not leave the thread waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from shipit.cli.demo_run import ahead
from shipit.errors import InputError


def test_items_come_in_order_at_most_one_ahead() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for i in range(50):
            made.append(i)
            yield i

    seen = []
    for item in ahead(items()):
        # The producer is never more than the queue and the one it holds ahead.
        assert len(made) <= item + 3
        seen.append(item)
    assert seen == list(range(50))


def test_an_error_in_the_generator_is_raised_to_the_caller() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise InputError("bad chunk 2")

    it = ahead(items())
    assert next(it) == 1
    with pytest.raises(InputError, match="bad chunk 2"):
        next(it)


def test_stopping_early_ends_the_thread() -> None:
    before = threading.active_count()
    it = ahead(iter(range(1000)))
    assert next(it) == 0
    it.close()  # as a failing write does, leaving the loop
    assert threading.active_count() == before

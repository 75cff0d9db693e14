"""The time-bounded cache: an entry past half its life is made again in the background
while the old one is served, never older than its life; a refresh that fails, or one that
a discard overtook, leaves no stale entry behind. The cache's clock is a fake one."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from shipit.server import cache as cache_module
from shipit.server.cache import TtlCache


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(cache_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def _refreshed(cache: TtlCache[str, int]) -> None:
    """Wait until no refresh runs any more."""
    for thread in threading.enumerate():
        if thread.name == "shipit-cache-refresh":
            thread.join(10)
    assert not cache._refreshing


def test_an_entry_past_half_its_life_is_made_again_while_the_old_is_served(
    clock: list[float],
) -> None:
    cache: TtlCache[str, int] = TtlCache(10.0)
    assert cache.get("a", lambda: 1) == 1
    clock[0] += 4
    assert cache.peek("a", lambda: 2) == 1  # young: nothing made
    _refreshed(cache)
    assert cache.peek("a") == 1
    clock[0] += 2
    assert cache.peek("a", lambda: 2) == 1  # past half its life: served, made again
    _refreshed(cache)
    assert cache.peek("a") == 2
    clock[0] += 10
    assert cache.peek("a") is None  # never served older than its life


def test_a_failed_refresh_drops_the_entry(clock: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(10.0)
    cache.get("a", lambda: 1)
    clock[0] += 6

    def revoked() -> int:
        raise RuntimeError("revoked")

    assert cache.get("a", revoked) == 1
    _refreshed(cache)
    assert cache.peek("a") is None


def test_a_refresh_overtaken_by_a_discard_is_not_stored(clock: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(10.0)
    cache.get("a", lambda: 1)
    clock[0] += 6
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(10)
        return 2

    assert cache.peek("a", slow) == 1
    assert started.wait(10)
    cache.discard("a")  # the experiment changed while the refresh was reading it
    release.set()
    _refreshed(cache)
    assert cache.peek("a") is None

"""The public surface of shipit.sim is explicit, sorted and resolves."""

from __future__ import annotations

import importlib

import shipit.sim as sim


def test_all_is_sorted_unique_and_resolves() -> None:
    assert sim.__all__ == sorted(set(sim.__all__))
    for name in sim.__all__:
        obj = getattr(sim, name)
        module = importlib.import_module(obj.__module__)
        assert getattr(module, name) is obj, name

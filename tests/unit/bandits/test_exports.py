"""The public surface of shipit.bandits is explicit and sorted."""

from __future__ import annotations

import importlib

import shipit.bandits as bandits


def test_all_is_sorted_and_importable() -> None:
    assert bandits.__all__ == sorted(set(bandits.__all__))
    for name in bandits.__all__:
        obj = getattr(bandits, name)
        module = importlib.import_module(obj.__module__)
        assert getattr(module, name) is obj, name

"""The public surface of shipit.stats is explicit, sorted and resolves."""

from __future__ import annotations

import importlib

import shipit.stats as stats


def test_all_is_sorted_unique_and_resolves() -> None:
    assert stats.__all__ == sorted(set(stats.__all__))
    for name in stats.__all__:
        assert getattr(stats, name) is not None, name


def test_all_names_what_users_need() -> None:
    needed = {
        "Moments",
        "compare",
        "srm_test",
        "adjust_p_values",
        "plan_sample_size",
        "sample_size_proportion",
        "msprt",
        "spending_bounds",
    }
    assert needed <= set(stats.__all__)


def test_every_export_comes_from_a_submodule_that_lists_it() -> None:
    # Each name is the object its own module exports (no stale aliases).
    for name in stats.__all__:
        obj = getattr(stats, name)
        module = importlib.import_module(obj.__module__)
        assert name in getattr(module, "__all__", ()), (name, obj.__module__)
        assert getattr(module, name) is obj

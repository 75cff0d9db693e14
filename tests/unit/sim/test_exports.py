"""The public surface of shipit.sim is explicit, sorted and resolves."""

from __future__ import annotations

import importlib
import inspect

import shipit.sim as sim


def test_all_is_sorted_unique_and_resolves() -> None:
    # isort-style order, as ruff keeps it: CONSTANTS, then Classes, then functions.
    def style(name: str) -> tuple[bool, bool, str]:
        return (not name.isupper(), not name[0].isupper(), name)

    assert sim.__all__ == sorted(set(sim.__all__), key=style)
    for name in sim.__all__:
        obj = getattr(sim, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants and type aliases (SCENARIOS, Progress) have no home module
        module = importlib.import_module(obj.__module__)
        assert getattr(module, name) is obj, name

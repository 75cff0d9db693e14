"""The packages' lazy public names: loaded on first use, listed by dir, never hidden."""

from __future__ import annotations

import importlib
import types

import pytest

import shipit.registry
import shipit.report

PACKAGES = [
    "shipit",
    "shipit.spec",
    "shipit.stats",
    "shipit.report",
    "shipit.registry",
    "shipit.operate",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_is_listed_and_loads(name: str) -> None:
    package = importlib.import_module(name)
    listed = dir(package)
    for public in package.__all__:
        assert public in listed
        assert getattr(package, public) is not None


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    with pytest.raises(AttributeError, match=r"'shipit\.registry' has no attribute 'nope'"):
        _ = shipit.registry.nope


def test_a_submodule_named_like_a_function_does_not_hide_it() -> None:
    importlib.import_module("shipit.report.summaries")
    assert isinstance(shipit.report.summaries, types.FunctionType)
    from shipit.report import summaries

    assert isinstance(summaries, types.FunctionType)

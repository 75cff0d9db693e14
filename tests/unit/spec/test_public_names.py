"""``shipit.spec`` loads its public names on first use, each from the module that defines it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shipit.spec as spec


def test_every_public_name_loads_and_none_is_missing() -> None:
    assert sorted(spec._WHERE) == sorted(spec.__all__)
    for name in spec.__all__:
        module = __import__(spec._WHERE[name], fromlist=[name])
        assert getattr(spec, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = spec.Nope  # type: ignore[attr-defined]


def test_the_decision_vocabulary_loads_without_the_models() -> None:
    code = "import sys, shipit.spec.decision; print('shipit.spec.experiment' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

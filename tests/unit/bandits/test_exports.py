"""The public surface of shipit.bandits is explicit and sorted."""

from __future__ import annotations

import shipit.bandits as bandits


def test_all_is_sorted_and_importable() -> None:
    assert bandits.__all__ == sorted(bandits.__all__)
    for name in bandits.__all__:
        assert hasattr(bandits, name), name

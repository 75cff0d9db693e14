"""shipit: from an experiment spec to a ship / iterate / kill verdict, with the right nuance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipit.errors import ShipitError

if TYPE_CHECKING:
    from shipit.stats.moments import Moments

__all__ = ["Moments", "ShipitError", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load ``Moments`` on first use, so that ``import shipit`` (and the CLI) skips scipy."""
    if name == "Moments":
        from shipit.stats.moments import Moments

        return Moments
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

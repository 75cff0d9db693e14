"""shipit: from an experiment spec to a ship / iterate / kill verdict, with the right nuance."""

from __future__ import annotations

from shipit.errors import ShipitError
from shipit.stats.moments import Moments

__all__ = ["Moments", "ShipitError", "__version__"]

__version__ = "0.1.0"

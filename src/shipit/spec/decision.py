"""The decision vocabulary: what a verdict says and what the registry records.

One definition for both: the verdict of an analysis (``shipit.result``) and the decision a
person records on a stopped experiment (``shipit.registry``) use these values.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Decision"]


class Decision(StrEnum):
    """What to do with an experiment: its values are the JSON and database spellings."""

    HALT = "halt"  # a trust check failed: read nothing until it is fixed
    ROLL_BACK = "roll_back"  # every variant breaches a guardrail
    SHIP = "ship"
    SHIP_TO_SEGMENT = "ship_to_segment"
    ITERATE = "iterate"  # not conclusive yet: extend, or redesign
    KILL = "kill"

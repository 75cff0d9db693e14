"""Operating running experiments: guarded rollouts, the monitor (scheduled analysis, alert
rules, webhook notifications, automatic rollback) and the portfolio of decisions.

It sits above ``shipit.analysis`` (it runs analyses) and below ``server`` and ``cli``, which
only parse and render what it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names

if TYPE_CHECKING:
    from shipit.operate.rollout import RolloutStatus, advance_rollout, breaches, rollout_status

__all__ = [
    "RolloutStatus",
    "advance_rollout",
    "breaches",
    "rollout_status",
]

_WHERE = {
    "RolloutStatus": "shipit.operate.rollout",
    "advance_rollout": "shipit.operate.rollout",
    "breaches": "shipit.operate.rollout",
    "rollout_status": "shipit.operate.rollout",
}

__getattr__, __dir__ = lazy_names(globals(), _WHERE)

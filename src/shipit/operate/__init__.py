"""Operating running experiments: guarded rollouts, the monitor (scheduled analysis, alert
rules, webhook notifications, automatic rollback) and the portfolio of decisions.

It sits above ``shipit.analysis`` (it runs analyses) and below ``server`` and ``cli``, which
only parse and render what it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names

if TYPE_CHECKING:
    from shipit.operate.alerts import Alert, evaluate_rules
    from shipit.operate.monitor import Monitor, MonitorRun, Outcome
    from shipit.operate.notify import RetryPolicy, WebhookResult, send_webhook, sign, verify
    from shipit.operate.portfolio import Portfolio, portfolio
    from shipit.operate.rollout import RolloutStatus, advance_rollout, breaches, rollout_status

__all__ = [
    "Alert",
    "Monitor",
    "MonitorRun",
    "Outcome",
    "Portfolio",
    "RetryPolicy",
    "RolloutStatus",
    "WebhookResult",
    "advance_rollout",
    "breaches",
    "evaluate_rules",
    "portfolio",
    "rollout_status",
    "send_webhook",
    "sign",
    "verify",
]

_WHERE = {
    "Alert": "shipit.operate.alerts",
    "evaluate_rules": "shipit.operate.alerts",
    "Monitor": "shipit.operate.monitor",
    "MonitorRun": "shipit.operate.monitor",
    "Outcome": "shipit.operate.monitor",
    "Portfolio": "shipit.operate.portfolio",
    "portfolio": "shipit.operate.portfolio",
    "RetryPolicy": "shipit.operate.notify",
    "WebhookResult": "shipit.operate.notify",
    "send_webhook": "shipit.operate.notify",
    "sign": "shipit.operate.notify",
    "verify": "shipit.operate.notify",
    "RolloutStatus": "shipit.operate.rollout",
    "advance_rollout": "shipit.operate.rollout",
    "breaches": "shipit.operate.rollout",
    "rollout_status": "shipit.operate.rollout",
}

__getattr__, __dir__ = lazy_names(globals(), _WHERE)

"""The portfolio: what the experimentation program has done, read from the registry.

- experiments per quarter: by the quarter each was started (its first ``start`` entry in the
  audit log); drafts never started are counted apart;
- decisions by kind: the recorded decision of every decided (or archived) experiment;
- win rate: the share of recorded decisions that ship (``ship`` or ``ship_to_segment``);
- median days from start to decision, over the decided experiments that were started;
- share halted by trust checks: of the experiments with at least one stored analysis, those
  with a ``halt`` verdict in any of them, or ``halt`` recorded as their decision.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipit.registry.analyses import AnalysisRepository
from shipit.spec.decision import Decision

__all__ = ["WINS", "Portfolio", "portfolio"]

WINS = frozenset({Decision.SHIP, Decision.SHIP_TO_SEGMENT})


@dataclass(frozen=True)
class Portfolio:
    """The program's numbers (see the module docstring for each definition)."""

    experiments: int
    per_quarter: dict[str, int]
    never_started: int
    decisions: dict[str, int]
    win_rate: float | None
    median_days_to_decision: float | None
    analysed: int
    halted: int
    halted_share: float | None
    by_status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (keys as in the CLI's JSON output)."""
        return {
            "experiments": self.experiments,
            "by_status": dict(self.by_status),
            "per_quarter": dict(self.per_quarter),
            "never_started": self.never_started,
            "decisions": dict(self.decisions),
            "win_rate": self.win_rate,
            "median_days_to_decision": self.median_days_to_decision,
            "analysed": self.analysed,
            "halted_by_trust_checks": self.halted,
            "halted_share": self.halted_share,
        }


def _quarter(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"


def _verdicts(bodies: list[str]) -> set[str]:
    out = set()
    for body in bodies:
        try:
            out.add(str(json.loads(body)["verdict"]["decision"]))
        except (ValueError, KeyError, TypeError):
            continue  # a body that is not an analysis says nothing of its verdict
    return out


def portfolio(registry: Any) -> Portfolio:
    """The portfolio of every experiment in ``registry`` (an open registry repository)."""
    records = registry.list_experiments()
    audit = registry.audit()
    starts: dict[str, datetime] = {}
    decided_at: dict[str, datetime] = {}
    for entry in audit:
        if entry.action == "start":
            starts.setdefault(entry.experiment_key, entry.at)
        elif entry.action == "decide":
            decided_at[entry.experiment_key] = entry.at
    analyses = AnalysisRepository(registry.engine)
    per_quarter: Counter[str] = Counter()
    decisions: Counter[str] = Counter()
    days: list[float] = []
    analysed = halted = 0
    for record in records:
        key = record.key
        if key in starts:
            per_quarter[_quarter(starts[key])] += 1
        if record.decision is not None:
            decisions[record.decision.value] += 1
            if key in starts and key in decided_at:
                days.append((decided_at[key] - starts[key]).total_seconds() / 86_400)
        seen = _verdicts([a.body for a in analyses.history(key)])
        if seen:
            analysed += 1
        if Decision.HALT.value in seen or record.decision is Decision.HALT:
            halted += 1
            analysed += 0 if seen else 1  # decided halt without a stored analysis: counted too
    total = sum(decisions.values())
    wins = sum(n for d, n in decisions.items() if Decision(d) in WINS)
    return Portfolio(
        experiments=len(records),
        by_status=dict(sorted(Counter(r.status.value for r in records).items())),
        per_quarter=dict(sorted(per_quarter.items())),
        never_started=sum(1 for r in records if r.key not in starts),
        decisions=dict(sorted(decisions.items())),
        win_rate=wins / total if total else None,
        median_days_to_decision=statistics.median(days) if days else None,
        analysed=analysed,
        halted=halted,
        halted_share=halted / analysed if analysed else None,
    )

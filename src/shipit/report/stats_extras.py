"""Rich tables of the optional ``shipit stats`` blocks: CUPED, Bayesian and sequential.

Each table appears only when its keys are in the results, so a plain frequentist run
renders as before. Cells keep the uncertainty next to every estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from shipit.result import format as fmt
from shipit.result.format import interval, num, pct

__all__ = ["bayesian_tables", "cuped_table", "sequential_table"]


# text columns read left-aligned; numbers right-aligned; only θ may wrap
_TEXT = {"metric", "variant", "model", "reason", "status", "decision", "ship"}


def _table(title: str, columns: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, no_wrap=col != "θ", justify="left" if col in _TEXT else "right")
    return table


def cuped_table(results: Sequence[Mapping[str, Any]]) -> Table | None:
    """Adjusted estimates next to the raw ones, with θ and the variance reduction."""
    rows = [r for r in results if r.get("cuped")]
    if not rows:
        return None
    table = _table(
        "CUPED (regression adjustment on pre-period covariates)",
        ["metric", "variant", "control\nvariant", "abs effect [interval]",
         "rel effect [interval]", "p", "variance\nreduction", "θ", "raw rel effect", "status"],
    )  # fmt: skip
    for r in rows:
        c = r["cuped"]
        theta = ", ".join(num(t, 3) for t in c.get("theta", []))
        status = str(c.get("adjustment_status", "ok"))
        if c.get("status", "ok") != "ok":
            status = f"{status} / {c['status']}"
        table.add_row(
            r["metric"],
            r["variant"],
            f"{num(c['mean_control'])}\n{num(c['mean_variant'])}",
            f"{num(c['abs_effect'])}\n{interval(c['abs_ci_low'], c['abs_ci_high'], num)}",
            f"{pct(c['rel_effect'])}\n{interval(c['rel_ci_low'], c['rel_ci_high'])}",
            fmt.p_value(c["p_value"]),
            f"{fmt.share(c['variance_reduction'])}\n(n ≈ {fmt.count(c.get('equivalent_n'))})",
            theta or "—",
            pct(r.get("rel_effect")),
            Text(status, style="" if status == "ok" else "yellow"),
        )
    return table


def _loss(x: Any, scale: str) -> str:
    return num(x, 3) if scale == "absolute" else fmt.pct_sig(x, 3)


def bayesian_tables(
    results: Sequence[Mapping[str, Any]], metrics: Sequence[Mapping[str, Any]]
) -> list[Table]:
    """P(better), expected losses, credible interval and ship rule; P(best) per metric."""
    rows = [r for r in results if "prob_better" in r]
    if not rows:
        return []
    table = _table(
        "Bayesian (credible interval of the relative effect; loss: absolute rate for beta, "
        "relative for normal)",
        ["metric", "variant", "model", "P(better)", "expected loss\nship · keep",
         "credible interval", "ship", "reason"],
    )  # fmt: skip
    for r in rows:
        scale = str(r.get("expected_loss_scale", "relative"))
        losses = f"{_loss(r['expected_loss_variant'], scale)} · "
        losses += _loss(r["expected_loss_control"], scale)
        table.add_row(
            r["metric"],
            r["variant"],
            str(r.get("bayes_model", "—")),
            num(r["prob_better"], 4),
            losses,
            interval(r["cred_low"], r["cred_high"]),
            Text("yes", style="bold green") if r.get("ship") else Text("no"),
            str(r.get("ship_reason", "—")),
        )
    out = [table]
    best = [m for m in metrics if m.get("prob_best")]
    if best:
        table_b = _table("P(best) and expected loss against the best", ["metric", "variant"])
        table_b.add_column("P(best)", justify="right")
        table_b.add_column("loss vs best", justify="right")
        for m in best:
            losses = m.get("expected_loss_vs_best", {})
            for label, p in m["prob_best"].items():
                table_b.add_row(m["metric"], label, num(p, 4), num(losses.get(label), 3))
        out.append(table_b)
    return out


def sequential_table(results: Sequence[Mapping[str, Any]]) -> Table | None:
    """Always-valid p-value (mSPRT) or z against its boundary (GST), decision, interval."""
    rows = [r for r in results if "seq_ci_low" in r]
    if not rows:
        return None
    table = _table(
        "Sequential (valid under peeking)",
        ["metric", "variant", "always-valid p", "z / boundary", "decision",
         "sequential abs interval", "sequential rel interval"],
    )  # fmt: skip
    for r in rows:
        z = f"{num(r.get('z'), 4)} / {num(r.get('boundary_z'), 4)}" if "boundary_z" in r else "—"
        decision = str(r.get("decision", "—"))
        style = "bold green" if decision == "efficacy" else ""
        table.add_row(
            r["metric"],
            r["variant"],
            fmt.p_value(r.get("p_value_always_valid")),
            z,
            Text(decision, style=style),
            interval(r.get("seq_ci_low"), r.get("seq_ci_high"), num),
            interval(r.get("seq_rel_ci_low"), r.get("seq_rel_ci_high")),
        )
    return table

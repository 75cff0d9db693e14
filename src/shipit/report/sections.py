"""One section model of an analysis: what every report shows, in order, already written.

``build_report(analysis)`` turns an ``Analysis`` into a ``Report``: a title, a one-line
subtitle and an ordered tuple of ``Section`` values (verdict, rollout plan, traffic
lights, effects, segments and heterogeneity, daily effect, power, true effects, notes,
then one summary per audience). Every number in a section is already a string, written
through ``shipit.result.format``; a section names the charts it needs (keys of
``shipit.report.charts.CHARTS``). The terminal, Markdown, HTML and dashboard renderers
only lay these sections out, so they show the same content and cannot drift apart.
Pure Python: building a report imports no plotting or templating library.

>>> report = build_report(analysis)                                      # doctest: +SKIP
>>> [s.key for s in report.sections][:3]                                 # doctest: +SKIP
['verdict', 'lights', 'effects']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shipit.report import section_tables as tables
from shipit.report.bandit_section import bandit_section_parts
from shipit.report.design_section import design_content
from shipit.report.section_tables import Column, Table
from shipit.report.summaries import AUDIENCES, DECISION_WORDS, summaries, true_effect
from shipit.result import format as fmt
from shipit.result.model import Analysis, CheckStatus, Decision, Effect, Light

__all__ = [
    "CHART_NEEDS",
    "Column",
    "Headline",
    "Item",
    "Report",
    "Section",
    "Table",
    "build_report",
    "chart_names",
]

LIGHT_OF: dict[CheckStatus, Light] = {"pass": "green", "warn": "yellow", "fail": "red"}


@dataclass(frozen=True)
class Item:
    """One line of a section: its text, with an optional bold label and traffic light."""

    text: str
    label: str | None = None
    light: Light | None = None


@dataclass(frozen=True)
class Headline:
    """The verdict as a headline: the decision in words and the variant it concerns."""

    decision: Decision
    words: str
    variant: str | None = None
    runner_up: str | None = None
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """One part of a report, shown in this order: headline, items, tables, notes, charts.

    ``key`` is stable (it becomes the HTML id); ``item_columns`` names the label and text
    of the items for renderers that lay items out as a table (``None``: a plain list).
    """

    key: str
    title: str
    headline: Headline | None = None
    items: tuple[Item, ...] = ()
    item_columns: tuple[str, str] | None = None
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """A whole report: title, subtitle and its sections in reading order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section | None:
        """The section with ``key``, if the analysis has one."""
        return next((s for s in self.sections if s.key == key), None)


def _has_balance(a: Analysis) -> bool:
    check = next((t for t in a.trust if t.name == "balance"), None)
    return check is not None and any(k.endswith("_rel_diff") for k in check.details)


CHART_NEEDS: dict[str, Callable[[Analysis], bool]] = {
    "effects": lambda a: bool(a.effects),
    "cumulative": lambda a: any(d.metric == a.primary for d in a.daily),
    "segments": lambda a: any(
        s.metric == a.primary and s.estimate.rel_effect is not None for s in a.segments
    ),
    "guardrails": lambda a: bool(a.guardrails),
    "srm": lambda a: bool(a.units),
    "balance": _has_balance,
    "bandit_weights": lambda a: a.bandit is not None and bool(a.bandit.periods),
    "bandit_estimates": lambda a: (
        a.bandit is not None and any(arm.mean is not None for arm in a.bandit.arms)
    ),
}
"""Each chart and whether an analysis has the data to draw it (no empty charts)."""


def chart_names(a: Analysis, wanted: tuple[str, ...] = tuple(CHART_NEEDS)) -> tuple[str, ...]:
    """The charts among ``wanted`` that ``a`` has data for, in ``wanted``'s order."""
    return tuple(name for name in wanted if CHART_NEEDS[name](a))


def _verdict(a: Analysis) -> Section:
    v = a.verdict
    head = Headline(
        decision=v.decision,
        words=DECISION_WORDS[v.decision],
        variant=v.variant,
        runner_up=v.runner_up,
        segments=v.segments,
    )
    return Section("verdict", "Verdict", headline=head, items=tuple(Item(r) for r in v.reasons))


def _rollout(a: Analysis) -> Section | None:
    v = a.verdict
    if not v.rollout:
        return None
    holdout = v.holdout_percent
    notes = () if holdout is None else (f"Long-term holdout: {fmt.points(holdout)}",)
    return Section("rollout", "Rollout plan", tables=(tables.rollout(v.rollout),), notes=notes)


def _lights(a: Analysis) -> Section:
    items = [Item(t.message, t.name, LIGHT_OF[t.status]) for t in a.trust]
    items += [Item(g.message, f"guardrail {g.metric}", g.light) for g in a.guardrails]
    return Section(
        "lights",
        "Traffic lights",
        items=tuple(items),
        item_columns=("check", "detail"),
        charts=chart_names(a, ("guardrails", "srm", "balance")),
    )


def _cuped_note(e: Effect) -> str | None:
    """What CUPED did for one effect: θ per covariate, the variance it removed and the
    units an unadjusted analysis would need for the same precision (as ``shipit stats``)."""
    c = e.cuped
    if c is None:
        return None
    theta = ", ".join(f"{k} {fmt.num(v, 3)}" for k, v in c.theta.items()) or fmt.MISSING
    same = (
        f"; as precise as {fmt.count(c.equivalent_n)} units without it"
        if c.equivalent_n is not None
        else ""
    )
    return (
        f"CUPED on {e.metric} ({e.variant}): θ {theta}; variance reduced by "
        f"{fmt.share(c.variance_reduction)}{same}"
    )


def _effects(a: Analysis) -> Section:
    notes = tuple(n for e in a.effects if (n := _cuped_note(e)) is not None)
    return Section(
        "effects",
        "Effects (relative)",
        tables=(tables.effects(a.effects, a.alpha),),
        notes=notes,
        charts=chart_names(a, ("effects",)),
    )


def _segments(a: Analysis) -> Section | None:
    if not a.segments and not a.heterogeneity:
        return None
    parts = []
    if a.segments:
        parts.append(tables.segments(a.segments, a.alpha))
    if a.heterogeneity:
        parts.append(tables.heterogeneity(a.heterogeneity, a.alpha))
    return Section(
        "segments",
        "Segments and heterogeneity",
        tables=tuple(parts),
        charts=chart_names(a, ("segments",)),
    )


def _fairness(a: Analysis) -> Section | None:
    """Each protected attribute's groups: effect, interval and the harm test's p-value."""
    checks = [t for t in a.trust if t.name.startswith("fairness_") and "highest" in t.details]
    if not checks:
        return None
    parts, notes = [], []
    for t in checks:
        d = t.details
        num = fmt.pct if d.get("scale") == "relative" else fmt.signed
        groups = [k[len("effect[") : -1] for k in d if k.startswith("effect[")]

        def _n(key: str, d: dict[str, float | str | None] = d) -> float | None:
            x = d.get(key)
            return x if isinstance(x, float) else None

        rows = tuple(
            (
                f"{d['attribute']}={g} ({d['variant']})",
                num(_n(f"effect[{g}]")),
                fmt.interval(_n(f"ci_low[{g}]"), _n(f"ci_high[{g}]"), num),
                fmt.p_value(_n(f"p_harm_adjusted[{g}]")),
            )
            for g in groups
        )
        columns = (
            Column("group"),
            Column("effect", numeric=True),
            Column("interval", numeric=True),
            Column("p harmed (Holm)", numeric=True),
        )
        parts.append(Table(columns, rows))
        ratio = _n("max_ratio")
        ratio_txt = (
            f", ratio {fmt.fixed(ratio, 3)} "
            f"{fmt.interval(_n('max_ratio_ci_low'), _n('max_ratio_ci_high'), fmt.fixed)}"
            if ratio is not None
            else ""
        )
        diff = fmt.estimate(
            _n("max_difference"), _n("max_difference_ci_low"), _n("max_difference_ci_high"), num
        )
        notes.append(
            f"{t.name} [{t.status}]: {d['highest']} vs {d['lowest']}: difference {diff}"
            f"{ratio_txt}; Cochran's Q p = {fmt.p_value(t.p_value)}"
        )
    return Section("fairness", "Fairness", tables=tuple(parts), notes=tuple(notes))


def _design(a: Analysis) -> Section | None:
    if a.design is None:
        return None
    d = design_content(a.design)
    items = tuple(Item(text, label) for label, text in d.lines)
    return Section("design", "Design", items=items, item_columns=("aspect", "design"),
                   tables=(d.table,) if d.table else (), notes=d.notes)  # fmt: skip


def _daily(a: Analysis) -> Section | None:
    if not a.daily:
        return None
    return Section(
        "daily",
        "Effect over time (cumulative)",
        tables=(tables.daily(a.daily),),
        charts=chart_names(a, ("cumulative",)),
    )


def _funnels(a: Analysis) -> Section | None:
    if not a.funnel_steps:
        return None
    return Section("funnels", "Funnel steps", tables=(tables.funnel_steps(a.funnel_steps),))


def _bandit(a: Analysis) -> Section | None:
    if a.bandit is None:
        return None
    parts, notes = bandit_section_parts(a.bandit)
    return Section(
        "bandit",
        "Bandit: adaptive-aware estimates",
        tables=parts,
        notes=notes,
        charts=chart_names(a, ("bandit_weights", "bandit_estimates")),
    )


def _power(a: Analysis) -> Section | None:
    if not a.power:
        return None
    return Section("power", "Power", tables=(tables.power(a.power),))


def _truth(a: Analysis) -> Section | None:
    if not a.true_effects:
        return None
    rows = tuple((k, true_effect(a, k, v)) for k, v in sorted(a.true_effects.items()))
    table = Table((Column("metric"), Column("true effect", numeric=True)), rows)
    note = "relative effects as percentages; absolute ones in the metric's unit, marked (abs.)"
    return Section("truth", "True effects (simulation)", tables=(table,), notes=(note,))


def _notes(a: Analysis) -> Section | None:
    if not a.notes:
        return None
    return Section("notes", "Notes", items=tuple(Item(n) for n in a.notes))


def _legend(a: Analysis) -> Section:
    """The report's one convention per quantity, stated once (units, levels, p-values)."""
    level, lights = fmt.share(1 - a.alpha, 0), fmt.share(1 - 2 * a.alpha, 0)
    lines = [
        (
            "effects",
            "relative to the control mean, as signed percentages (+7.00% is 7% above "
            "control): lifts, novelty, segments, true effects; an absolute effect is in "
            "the metric's own unit and says so (abs., or 'absolute' as in Simpson's check)",
        ),
        (
            "intervals",
            f"{level} unless labelled; guardrail lights use {lights} intervals (two "
            "one-sided tests at α), pre-period balance 95%",
        ),
        (
            "p-values",
            "raw p is the unadjusted test, CUPED p the covariate-adjusted one, a "
            "Holm-, Bonferroni- or BH-adjusted p is corrected over the plan's family; "
            "never rounded onto α, and one below 1e-300 reads < 1e-300",
        ),
    ]
    if a.method == "bayesian":
        lines.append(
            (
                "Bayesian",
                "P(better) is the posterior probability that the variant beats control; "
                "expected loss is what shipping it costs in expectation, relative to control",
            )
        )
    items = tuple(Item(text, label) for label, text in lines)
    return Section(
        "legend", "How to read the numbers", items=items, item_columns=("quantity", "convention")
    )


def _audiences(a: Analysis) -> tuple[Section, ...]:
    lines = summaries(a)
    return tuple(
        Section(
            f"for-{audience.replace('_', '-')}",
            f"For {audience.replace('_', ' ')}",
            items=tuple(Item(line) for line in lines[audience]),
        )
        for audience in AUDIENCES
    )


def build_report(a: Analysis) -> Report:
    """The report of ``a``: every section it has content for, in reading order."""
    from shipit.report.interleaving import interleaving_section

    parts = [
        _verdict(a),
        _rollout(a),
        _lights(a),
        interleaving_section(a),
        _effects(a) if a.effects or a.interleaving is None else None,
        _design(a),
        _bandit(a),
        _segments(a),
        _fairness(a),
        _daily(a),
        _funnels(a),
        _power(a),
        _truth(a),
        _notes(a),
        _legend(a),
    ]
    subtitle = (
        f"method {a.method} · α = {fmt.num(a.alpha)} · primary {a.primary} · control {a.control} · "
        f"variants {', '.join(a.variants)}"
    )
    sections = tuple(s for s in parts if s is not None) + _audiences(a)
    if a.shadow is not None:  # a shadow run has no effects: its own sections instead
        from shipit.report.shadow import shadow_report

        return shadow_report(a, _verdict(a), _notes(a))
    return Report(title=a.experiment, subtitle=subtitle, sections=sections)

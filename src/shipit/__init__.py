"""shipit: from an experiment spec to a ship / iterate / kill verdict, with the right nuance.

The few names a user needs, loaded on first use (so ``import shipit`` and the CLI stay
fast)::

    import shipit

    experiment = shipit.load_experiment("experiment.yaml")
    engine = shipit.connect("store.duckdb")
    analysis = shipit.analyze(experiment, engine)
    print(analysis.verdict.decision)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names
from shipit.errors import (
    ConflictError,
    DataError,
    EngineError,
    InputError,
    NotFoundError,
    ShipitError,
    SpecError,
)

if TYPE_CHECKING:
    from shipit.analysis import analyze, analyze_registered
    from shipit.registry import open_registry
    from shipit.report import render_html, render_markdown, to_text
    from shipit.result import Analysis, from_json, to_json
    from shipit.spec import Experiment, MetricDef, load_experiment, load_experiments
    from shipit.stats.moments import Moments
    from shipit.store.engine import Engine, connect

__all__ = [
    "Analysis",
    "ConflictError",
    "DataError",
    "Engine",
    "EngineError",
    "Experiment",
    "InputError",
    "MetricDef",
    "Moments",
    "NotFoundError",
    "ShipitError",
    "SpecError",
    "__version__",
    "analyze",
    "analyze_registered",
    "connect",
    "from_json",
    "load_experiment",
    "load_experiments",
    "open_registry",
    "render_html",
    "render_markdown",
    "to_json",
    "to_text",
]

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first use)
_WHERE: dict[str, str] = {
    "Analysis": "shipit.result",
    "Engine": "shipit.store.engine",
    "Experiment": "shipit.spec",
    "MetricDef": "shipit.spec",
    "Moments": "shipit.stats.moments",
    "analyze": "shipit.analysis",
    "analyze_registered": "shipit.analysis",
    "connect": "shipit.store.engine",
    "from_json": "shipit.result",
    "load_experiment": "shipit.spec",
    "load_experiments": "shipit.spec",
    "open_registry": "shipit.registry",
    "render_html": "shipit.report",
    "render_markdown": "shipit.report",
    "to_json": "shipit.result",
    "to_text": "shipit.report",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)

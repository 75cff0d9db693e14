"""The table renderers load no plotting, templating or numeric library: ``shipit power``,
``shipit stats`` and the terminal report start fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"
HEAVY = ("plotly", "jinja2", "scipy", "numpy", "pandas", "duckdb")


def _loaded(modules: list[str]) -> list[str]:
    code = (
        f"import json, sys\nfor m in {modules!r}: __import__(m)\n"
        f"print(json.dumps(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(done.stdout))


def test_table_renderers_and_the_section_model_import_light() -> None:
    light = [
        "shipit.report",
        "shipit.report.terminal",
        "shipit.report.sections",
        "shipit.report.analysis_terminal",
        "shipit.report.markdown",
        "shipit.result.format",
    ]
    assert _loaded(light) == []


def test_the_html_report_loads_its_libraries_when_used() -> None:
    assert set(_loaded(["shipit.report.html"])) >= {"plotly", "jinja2"}

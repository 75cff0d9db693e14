"""``shipit analyze`` piped into another program (no TTY) at a narrow COLUMNS: every name
whole, nothing cut to ``watch_…``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipit.cli.demo_run import run_demo

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize("columns", [40, 60])
def test_piped_table_never_truncates_a_name(tmp_path: Path, columns: int) -> None:
    out = tmp_path / "demo"
    analysis = run_demo("recommender", 4_000, out, seed=3).analysis
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(SRC), "TERM": "dumb"}
    args = [sys.executable, "-m", "shipit", "analyze", "recommender"]
    args += ["--store", str(out / "store.duckdb"), "--database-url", f"sqlite:///{out}/registry.db"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= columns
    names = {*analysis.variants, *(e.metric for e in analysis.effects)}
    names |= {t.name for t in analysis.trust}
    for name in names:  # each name on one line, whole
        assert name in text, name

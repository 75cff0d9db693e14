"""docs/data.md's "Per-unit tables" and "Python API" sections run as written, in order.

Python blocks run as scripts, ``yaml`` blocks whose first line is ``# FILE`` are written to
that file, and each ``shipit ...`` line of a bash block runs this tree's CLI; all in one
fresh folder, so later blocks read what earlier ones wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "data.md"
SECTIONS = ("## Per-unit tables", "## Python API")


def _section(text: str, title: str) -> str:
    start = text.index(title + "\n")
    nxt = re.search(r"^## ", text[start + len(title) :], flags=re.M)
    return text[start : start + len(title) + nxt.start()] if nxt else text[start:]


def _blocks() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    out: list[tuple[str, str]] = []
    for title in SECTIONS:
        out += re.findall(r"^```(\w+)\n(.*?)^```", _section(text, title), flags=re.M | re.S)
    return out


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_sections_have_every_kind_of_example() -> None:
    kinds = [k for k, _ in _blocks()]
    assert kinds.count("python") >= 3
    assert "yaml" in kinds
    assert kinds.count("bash") >= 3


def test_every_example_runs(tmp_path: Path) -> None:
    outputs = []
    for kind, body in _blocks():
        if kind == "python":
            outputs.append(_run([sys.executable, "-c", body], tmp_path))
        elif kind == "yaml":
            first, _, rest = body.partition("\n")
            assert first.startswith("# "), "a yaml example names its file on its first line"
            (tmp_path / first[2:].strip()).write_text(rest, encoding="utf-8")
        elif kind == "bash":
            for line in body.splitlines():
                assert line.startswith("shipit "), line
                argv = line.split()[1:]
                outputs.append(_run([sys.executable, "-m", "shipit", *argv], tmp_path))
    text = "\n".join(outputs)
    assert "not applicable (no timestamps)" in text
    assert (tmp_path / "analysis.json").is_file()
    assert "revenue_per_orders" in text

"""CLI start-up: wall time of every command's ``--help`` and of ``shipit power`` to first output.

Run: ``python benchmarks/startup.py [--repeat N]``. Each command runs in a fresh interpreter
on this tree's sources, ``--repeat`` times (best and median kept), interleaved with
``python -c pass`` so that the ratio to a bare interpreter, measured in the same run, holds
on a busy machine too. Targets: ``--help`` < 0.3 s; ``shipit power`` < 0.6 s to first output.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

HELP_LIMIT, POWER_LIMIT = 0.3, 0.6
POWER = ["power", "--kind", "proportion", "--baseline", "0.10", "--mde", "0.01"]


def _env() -> dict[str, str]:
    path = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "COLUMNS": "100"}


def _first_output(argv: list[str]) -> float:
    """Seconds from spawning ``argv`` to its first byte on stdout (or its exit if silent)."""
    start = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env()) as p:
        assert p.stdout is not None
        p.stdout.read(1)
        first = time.perf_counter() - start
        p.stdout.read()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {p.returncode}")
    return first


def _commands() -> list[list[str]]:
    """Every command and sub-command path of the app, root first."""
    import typer

    from shipit.cli.main import app

    def walk(cmd: object, prefix: list[str]) -> list[list[str]]:
        paths = [prefix]
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            paths.extend(walk(sub, [*prefix, name]))
        return paths

    return walk(typer.main.get_command(app), [])


def main() -> None:
    """Time each command, print seconds and the ratio to ``python -c pass``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shipit = [sys.executable, "-m", "shipit"]
    cases = [(" ".join(["shipit", *c, "--help"]), [*shipit, *c, "--help"]) for c in _commands()]
    cases.append((" ".join(["shipit", *POWER]), [*shipit, *POWER]))
    bare = [sys.executable, "-c", "pass"]
    print(f"{'command':44} {'best s':>7} {'median s':>9} {'× python':>9}  target")
    worst = {"help": 0.0, "power": 0.0}
    every_base: list[float] = []
    for label, argv in cases:
        times, bases = [], []
        for _ in range(args.repeat):
            bases.append(_first_output(bare))
            times.append(_first_output(argv))
        best, base = min(times), min(bases)
        every_base.extend(bases)
        kind = "help" if label.endswith("--help") else "power"
        limit = HELP_LIMIT if kind == "help" else POWER_LIMIT
        worst[kind] = max(worst[kind], best)
        mark = "ok" if best < limit else "SLOW"
        print(
            f"{label[:44]:44} {best:7.3f} {statistics.median(times):9.3f} "
            f"{best / base:9.1f}  < {limit} s {mark}"
        )
    print(f"python -c pass (best of the run): {min(every_base):.3f} s")
    print(f"slowest --help {worst['help']:.3f} s; shipit power {worst['power']:.3f} s")


if __name__ == "__main__":
    main()

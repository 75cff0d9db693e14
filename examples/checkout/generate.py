"""Write the small checkout-button-color data set beside this file (seeded, reproducible).

Run: ``python examples/checkout/generate.py [FOLDER]`` (default: this folder). The
README's ``shipit load`` and ``shipit metrics`` examples read what it writes:
``exposures.csv`` (each enrolled unit's first exposure, with country and platform),
``events.csv`` (purchases with their amount in ``value``, page loads with their
milliseconds, refunds; some purchases before the exposure, for CUPED) and ``units.txt``
(unit ids for ``shipit assign``). Green converts a little more.
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from shipit.assign import Assigner
from shipit.spec import load_experiment

HERE = Path(__file__).resolve().parent

ELIGIBLE = 1500  # users who reach checkout; the spec enrols 20% of them
START = datetime(2026, 12, 1)
COUNTRIES, PLATFORMS = ("fr", "de", "us"), ("web", "ios", "android")


def main(folder: Path = HERE) -> None:
    """Assign the eligible users with the example spec, simulate their events, write files."""
    rng = np.random.default_rng(20261201)
    spec = load_experiment(HERE.parent / "checkout_button.yaml")
    units = [f"user-{i:04d}" for i in range(1, ELIGIBLE + 1)]
    assigned = Assigner(spec).assign_batch(units)
    exposures: list[list[str]] = []
    events: list[list[str]] = []
    for unit, assignment in zip(units, assigned, strict=True):
        if not assignment.enrolled or assignment.variant is None:
            continue
        green = assignment.variant == "green"
        seen = START + timedelta(minutes=int(rng.integers(0, 13 * 24 * 60)))
        country, platform = rng.choice(COUNTRIES), rng.choice(PLATFORMS)
        exposures.append(
            [spec.key, unit, assignment.variant, f"{seen:%Y-%m-%d %H:%M:%S}", country, platform]
        )
        spend = rng.gamma(2.0, 20.0)  # this user's typical basket, before and after
        for _ in range(rng.poisson(0.6)):  # purchases in the 14 days before exposure
            at = seen - timedelta(hours=float(rng.uniform(1, 336)))
            events.append([unit, "purchase", at, round(spend * rng.uniform(0.5, 1.5), 2)])
        if rng.random() < (0.36 if green else 0.30):
            for _ in range(1 + rng.poisson(0.4)):
                at = seen + timedelta(hours=float(rng.uniform(0, 300)))
                events.append([unit, "purchase", at, round(spend * rng.uniform(0.5, 1.5), 2)])
            if rng.random() < 0.05:
                events.append([unit, "refund", seen + timedelta(hours=310), ""])
        for _ in range(1 + rng.poisson(2.0)):
            at = seen + timedelta(minutes=float(rng.uniform(0, 20_000)))
            events.append([unit, "page_load", at, round(rng.lognormal(6.0, 0.3), 1)])
    events.sort(key=lambda e: (e[2], e[0]))
    with (folder / "exposures.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["experiment", "unit_id", "variant", "timestamp", "country", "platform"])
        out.writerows(exposures)
    with (folder / "events.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["event_id", "unit_id", "event", "timestamp", "value"])
        for i, (unit, event, at, value) in enumerate(events, 1):
            out.writerow([f"e{i:05d}", unit, event, f"{at:%Y-%m-%d %H:%M:%S}", value])
    sample = [*units[:18], "qa-bot-1", "designer-7"]
    (folder / "units.txt").write_text("\n".join(sample) + "\n", encoding="utf-8")
    print(f"{len(exposures)} exposures, {len(events)} events, {len(sample)} units to assign")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)

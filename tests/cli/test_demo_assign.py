"""``shipit demo`` assigns plainly randomized scenarios exactly as ``shipit assign`` does."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from shipit.assign.designs import stratified
from shipit.cli.demo_run import run_demo
from shipit.cli.main import app
from shipit.errors import InputError
from shipit.registry import open_registry
from shipit.sim import generate, iter_chunks
from shipit.sim.recommender import SALT

runner = CliRunner()


@pytest.mark.parametrize("name", ["ecommerce", "three-models"])
def test_demo_exposures_equal_shipit_assign(name: str, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--scenario", name, "--users", "1500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "assignment: shipit.assign" in result.output
    con = duckdb.connect(str(out / "store.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT unit_id, variant FROM exposures WHERE experiment = ? ORDER BY unit_id", [name]
    ).fetchall()
    con.close()
    assert len(rows) == 1500
    units = tmp_path / "units.txt"
    units.write_text("\n".join(u for u, _ in rows) + "\n", encoding="utf-8")
    url = f"sqlite:///{out / 'registry.db'}"
    assigned = runner.invoke(app, ["assign", name, "--units", str(units), "--database-url", url])
    assert assigned.exit_code == 0, assigned.output
    expected = {r["unit"]: r["variant"] for r in csv.DictReader(io.StringIO(assigned.stdout))}
    assert dict(rows) == expected
    # Every variant got units: the assignment is not degenerate.
    assert len(set(expected.values())) == (2 if name == "ecommerce" else 4)


def test_recommender_uses_shipit_assign_stratified_design(tmp_path: Path) -> None:
    """Its exposures are ``designs.stratified`` on the stored tenure bands with the
    registered experiment's salt and weights."""
    result = run_demo("recommender", 3_000, tmp_path, chunk_size=1_000)
    assert "stratified design on tenure bands" in result.design
    assert result.design.startswith("assignment: shipit.assign")
    con = duckdb.connect(str(result.store), read_only=True)
    rows = con.execute(
        "SELECT e.unit_id, e.variant, u.tenure_band FROM exposures e JOIN units u USING (unit_id)"
        " ORDER BY e.unit_id"
    ).fetchall()
    con.close()
    ids = np.array([r[0] for r in rows])
    band = np.array([int(r[2]) for r in rows])  # the store keeps numbers as doubles
    reg = open_registry(f"sqlite:///{result.registry}")
    exp = reg.get("recommender").experiment
    reg.close()
    assert exp.hash_salt == SALT
    expected = np.empty(len(ids), dtype=object)
    for k in range(3):  # one design per generated chunk of 1,000 units
        part = slice(k * 1_000, (k + 1) * 1_000)
        expected[part] = stratified(
            ids[part], band[part], exp.variant_keys, exp.weights, salt=exp.hash_salt
        )
    assert [r[1] for r in rows] == list(expected)


def test_given_assignments_replace_the_draw_and_keep_the_rest() -> None:
    own = generate("three-models", 800, seed=3)
    flipped = lambda ids: np.full(len(ids), 3, dtype=np.int64)  # noqa: E731
    given = next(iter_chunks("three-models", 800, seed=3, assign=flipped))
    assert set(given.exposures["variant"]) == {"hybrid"}
    # Draws other than the variant stay on the same seeded stream.
    assert list(given.exposures["platform"]) == list(own.exposures["platform"])
    assert list(given.exposures["unit_id"]) == list(own.exposures["unit_id"])
    # Outcomes follow the given variant: hybrid's true CTR 6.5% against the mix's ~5.9%.
    big = next(iter_chunks("three-models", 40_000, seed=3, chunk_size=40_000, assign=flipped))
    ev = big.events["event"].astype(str)
    ctr = (ev == "click").sum() / (ev == "impression").sum()
    assert ctr == pytest.approx(0.065, rel=0.04)


def test_recommender_takes_a_stratified_design() -> None:
    seen: list[np.ndarray] = []

    def design(ids: np.ndarray, strata: np.ndarray) -> np.ndarray:
        seen.append(strata)
        return np.zeros(len(ids), np.int64)

    chunk = next(iter_chunks("recommender", 100, assign=design))
    assert set(chunk.exposures["variant"]) == {"control"}
    assert list(seen[0]) == list(chunk.units["tenure_band"])
    with pytest.raises(InputError, match="design must give"):
        next(iter_chunks("recommender", 100, assign=lambda ids, s: np.full(len(ids), 2)))


@pytest.mark.parametrize(
    "bad", [np.full(100, 7), np.zeros(99, np.int64), np.full(100, 0.5), np.full(100, -1)]
)
def test_bad_given_assignments_are_input_errors(bad: np.ndarray) -> None:
    with pytest.raises(InputError, match="assignments must be"):
        next(iter_chunks("ecommerce", 100, assign=lambda ids: bad))

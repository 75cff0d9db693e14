"""CSV that keeps its data: NA is text unless asked, and the delimiter is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipit.analysis import analyze
from shipit.cli.main import app
from shipit.errors import DataError
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import detect_delimiter, load

EVENTS = (
    "event_id,unit_id,event,timestamp,value\n"
    "NA,u1,buy,2024-01-02T00:00:00Z,1\n"
    "e2,u2,buy,2024-01-02T00:00:00Z,NA\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_null_values_make_na_missing_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.csv", EVENTS)
    e = DuckDBEngine(":memory:")
    assert load(e, "events", path, null_values=["NA"]) == 2
    # Without an id a row is not deduplicated: a reload stores it again.
    assert load(e, "events", path, null_values=["NA"]) == 1
    rows = e.query("SELECT event_id, value FROM events ORDER BY unit_id").to_pylist()
    assert rows == [{"event_id": None, "value": 1.0}] * 2 + [{"event_id": "e2", "value": None}]


def test_by_default_na_is_an_id_and_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.csv", EVENTS)
    with pytest.raises(DataError, match=r"row 2: value NA is not a valid DOUBLE"):
        load(DuckDBEngine(":memory:"), "events", path)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_another_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = EVENTS.replace(",NA\n", ",2\n").replace(",", delimiter)
    path = _write(tmp_path, "events.csv", text)
    e = DuckDBEngine(":memory:")
    assert load(e, "events", path) == 2
    got = e.query("SELECT event_id, value FROM events ORDER BY unit_id").to_pylist()
    assert got == [{"event_id": "NA", "value": 1.0}, {"event_id": "e2", "value": 2.0}]


def test_detection_prefers_the_comma() -> None:
    assert detect_delimiter("a,b;c,d") == ","
    assert detect_delimiter("single") == ","
    assert detect_delimiter("a;b;c") == ";"


def test_a_wrong_delimiter_is_named_in_the_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.csv", EVENTS.replace(",NA\n", ",2\n"))
    with pytest.raises(DataError, match=r"another delimiter: name it with --delimiter"):
        load(DuckDBEngine(":memory:"), "events", path, delimiter=";")


def test_cli_load_takes_null_values_and_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.csv", EVENTS.replace(",", ";"))
    store = tmp_path / "s.duckdb"
    args = ["load", "events", str(path), "--store", str(store)]
    result = CliRunner().invoke(app, [*args, "--null-values", "NA,null", "--delimiter", ";"])
    assert result.exit_code == 0, result.output
    assert "loaded 2 new rows" in result.output
    e = DuckDBEngine(store)
    assert e.query("SELECT count(*) AS n FROM events WHERE event_id IS NULL")["n"][0].as_py() == 1


def test_country_na_from_csv_is_a_segment(tmp_path: Path) -> None:
    lines = ["experiment,unit_id,variant,timestamp,country"]
    lines += [
        f"x,u{i},{'a' if i % 2 else 'b'},2024-01-01T00:00:00Z,{'NA' if i % 3 else 'de'}"
        for i in range(40)
    ]
    exposures = _write(tmp_path, "exposures.csv", "\n".join(lines) + "\n")
    events = _write(
        tmp_path,
        "events.csv",
        "unit_id,event,timestamp,value\n"
        + "".join(f"u{i},buy,2024-01-02T00:00:00Z,{i}\n" for i in range(40)),
    )
    e = DuckDBEngine(":memory:")
    load(e, "exposures", exposures)
    load(e, "events", events)
    spec = Experiment.model_validate(
        {
            "key": "x",
            "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "metrics": [{"name": "revenue", "event": "buy"}],
        }
    )
    a = analyze(spec, e, segments=["country"], daily=False)
    na = [s for s in a.segments if s.segment == "NA"]
    assert na
    assert na[0].n_control + na[0].n_variant == sum(1 for i in range(40) if i % 3)

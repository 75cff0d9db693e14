"""Every example of docs/data.md runs as written, in order, in a fresh folder.

Named blocks (```csv exposures.csv, ```yaml checkout.yaml) are written as files first;
then the bash blocks run line by line (``shipit`` is this tree's CLI) and the python
blocks run as scripts. A line commented ``# exits 2: MESSAGE`` must fail so, with that
message. The numbers the examples produce are checked against pandas on the files.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "data.md"
BLOCK = re.compile(r"^```(\w+)(?: (\S+))?\n(.*?)^```", flags=re.M | re.S)
EXITS = re.compile(r"#\s*exits (\d+): (.*)$")


# Sections whose examples run in their own test (tests/test_docs_data_table.py).
OWN_TEST = re.compile(r"^## (?:Per-unit tables|Python API)\n.*?(?=^## |\Z)", flags=re.M | re.S)


def blocks() -> list[tuple[str, str | None, str]]:
    """(language, file name or None, text) of every fenced block, in order."""
    text = OWN_TEST.sub("", DOC.read_text(encoding="utf-8"))
    return [(m[1], m[2], m[3]) for m in BLOCK.finditer(text)]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder after every example ran."""
    folder = tmp_path_factory.mktemp("docs-data")
    for _, name, text in blocks():
        if name:
            (folder / name).write_text(text, encoding="utf-8")
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "shipit"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m shipit "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "COLUMNS": "400",
    }
    for lang, name, text in blocks():
        if name is not None:
            continue
        if lang == "python":
            run = subprocess.run(
                [sys.executable, "-c", text], cwd=folder, env=env, capture_output=True, text=True
            )
            assert run.returncode == 0, f"{text}\n{run.stderr}"
        elif lang == "bash":
            for line in text.splitlines():
                if not line.strip():
                    continue
                run = subprocess.run(
                    ["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True
                )
                expected = EXITS.search(line)
                if expected is None:
                    assert run.returncode == 0, f"{line}\n{run.stdout}\n{run.stderr}"
                else:
                    assert run.returncode == int(expected[1]), f"{line}\n{run.stderr}"
                    assert expected[2].strip() in " ".join(run.stderr.split()), run.stderr
    return folder


def _units(folder: Path, exposures: str, events: str, **names: str) -> pd.DataFrame:
    """Per unit: its variant and its purchase revenue in [exposure, exposure + 7 days)."""
    ex = pd.read_csv(folder / exposures, keep_default_na=False).rename(columns=names)
    ev = pd.read_csv(folder / events, keep_default_na=False).rename(columns=names)
    ex["timestamp"] = pd.to_datetime(ex["timestamp"], utc=True)
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True)
    buys = ev[ev["event"] == "purchase"].merge(ex, on="unit_id", suffixes=("", "_x"))
    after = buys[
        (buys["timestamp"] >= buys["timestamp_x"])
        & (buys["timestamp"] < buys["timestamp_x"] + pd.Timedelta(hours=168))
    ]
    revenue = after.groupby("unit_id")["value"].sum().astype(float)
    out = ex.set_index("unit_id")
    out["revenue"] = revenue.reindex(out.index).fillna(0.0)
    out["converted"] = (out["revenue"] > 0).astype(float)
    return out


def _effect(body: dict, metric: str) -> dict:
    return next(e for e in body["effects"] if e["metric"] == metric)


def test_every_block_is_run_or_written() -> None:
    kinds = {(lang, name is not None) for lang, name, _ in blocks()}
    assert kinds <= {("csv", True), ("yaml", True), ("bash", False), ("python", False)}


def test_the_loading_examples_keep_na(ran: Path) -> None:
    import duckdb

    con = duckdb.connect(str(ran / ".shipit" / "store.duckdb"), read_only=True)
    ids = [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY 1").fetchall()]
    assert ids.count("NA") == 1
    assert len(ids) == 13
    countries = {r[0] for r in con.execute("SELECT DISTINCT country FROM exposures").fetchall()}
    assert countries == {"NA", "de", "fr"}
    con.close()


def test_the_metric_examples_match_pandas(ran: Path) -> None:
    body = json.loads((ran / "checkout.json").read_text())
    units = _units(ran, "exposures.csv", "events.csv")
    names = {e["metric"] for e in body["effects"]}
    assert names == {
        "revenue",
        "converted",
        "orders",
        "most_items",
        "pages_seen",
        "revenue_per_order",
        "load_time_p90",
    }
    means = units.groupby("variant")["converted"].mean()
    conv = _effect(body, "converted")
    assert conv["mean_control"] == pytest.approx(means["control"], abs=1e-12)
    assert conv["mean_variant"] == pytest.approx(means["new button"], abs=1e-12)
    assert {s["segment"] for s in body["segments"]} >= {"NA"}


def test_the_mapping_examples_match_pandas(ran: Path) -> None:
    names = {"customer_id": "unit_id", "arm": "variant", "seen_at": "timestamp"}
    names |= {"kind": "event", "ts": "timestamp", "amount": "value"}
    units = _units(ran, "assign_log.csv", "orders.csv", **names)
    # typo-free.yaml's revenue has no window end: every purchase after exposure counts
    means = units.groupby("variant")["revenue"].mean()
    for out in ("warehouse.json", "warehouse-spec.json"):
        body = json.loads((ran / out).read_text())
        rev = _effect(body, "revenue")
        assert rev["mean_control"] == pytest.approx(means["control"], abs=1e-12), out
        assert rev["mean_variant"] == pytest.approx(means["new button"], abs=1e-12), out

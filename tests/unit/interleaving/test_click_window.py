"""Clicks credit a ranker only from their impression to ``click_window_minutes`` after it;
the others are counted for a trust check. The engine's counts equal pandas' on the raw rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from shipit.analysis.interleaving import analyze_interleaving, interleaving_result
from shipit.sim.interleaving import textbook_pair
from shipit.sim.interleaving_events import interleaving_events
from shipit.spec import Experiment
from shipit.store.engine import connect
from shipit.store.tables import TABLES

# Click delays in minutes after the impression: before it, at it, inside, at the edge, after.
DELAYS = np.array([-5.0, 0.0, 10.0, 30.0, 30.5, 120.0])


def _spec(**block: Any) -> Experiment:
    return Experiment.model_validate(
        {
            "key": "interleaving-sim",
            "type": "interleaving",
            "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "interleaving": {"click_event": "click", **block},
        }
    )


def timed_events(seed: int = 11) -> pd.DataFrame:
    """Seeded sessions whose clicks come at DELAYS from their impression, a second click
    on some clicked items, and clicks on items no session showed."""
    table = interleaving_events(textbook_pair(), sessions=600, units=120, seed=seed)
    df = table.to_pandas()
    rng = np.random.default_rng(seed)
    clicks = df["event"] == "click"
    df.loc[clicks, "timestamp"] += pd.to_timedelta(rng.choice(DELAYS, clicks.sum()), "min")
    again = df[clicks].sample(frac=0.3, random_state=seed).copy()
    again["event_id"] += "-again"
    again["timestamp"] += pd.to_timedelta(rng.choice(DELAYS, len(again)), "min")
    stray = df[clicks].head(7).copy()
    stray["event_id"] += "-stray"
    stray["item_id"] = "not-shown"
    return pd.concat([df, again, stray], ignore_index=True)


def reference(df: pd.DataFrame, window: float, count: str = "items") -> dict[str, int]:
    """The counts straight from the rows with pandas."""
    keys = ["unit_id", "session_id", "item_id"]
    imp = df[df["event"] == "interleaving_impression"]
    shown = imp.groupby(keys, as_index=False).agg(ranker=("ranker", "min"), at=("timestamp", "min"))
    clk = df.loc[df["event"] == "click", [*keys, "timestamp"]].merge(shown, on=keys, how="left")
    sessions = shown[["unit_id", "session_id"]].drop_duplicates()
    in_session = clk.merge(sessions, on=["unit_id", "session_id"], how="inner")
    on_item = clk[clk["ranker"].notna()]
    inside = (on_item["timestamp"] - on_item["at"]).between(
        pd.Timedelta(0), pd.Timedelta(minutes=window)
    )
    ok = on_item[inside]
    if count == "items":
        ok = ok.drop_duplicates(keys)
    credit = ok.groupby(["unit_id", "session_id", "ranker"]).size().unstack(fill_value=0)
    credit = credit.reindex(columns=["a", "b"], fill_value=0)
    return {
        "sessions": len(sessions),
        "wins_control": int((credit["a"] > credit["b"]).sum()),
        "wins_variant": int((credit["b"] > credit["a"]).sum()),
        "clicks_matched": int(inside.sum()),
        "clicks_outside_window": int((~inside).sum()),
        "clicks_unmatched": int(in_session["ranker"].isna().sum()),
    }


def _engine(df: pd.DataFrame) -> Any:
    engine = connect(":memory:")
    engine.append(TABLES["events"], pa.Table.from_pandas(df, preserve_index=False).to_batches())
    return engine


@pytest.mark.parametrize(("window", "count"), [(30, "items"), (200, "clicks")])
def test_only_clicks_in_the_window_credit_and_the_rest_are_counted(window: int, count: str) -> None:
    df = timed_events()
    exp = _spec(click_window_minutes=window, credit={"count": count})
    result, _ = interleaving_result(exp, _engine(df))
    want = reference(df, window, count)
    got = {k: getattr(result, k) for k in want}
    assert got == want
    assert want["clicks_outside_window"] > 20
    assert want["clicks_unmatched"] == 7
    # Ignoring the timestamps would change the wins, so the window is what is tested.
    untimed = reference(df.assign(timestamp=df["timestamp"].min()), window, count)
    assert untimed["clicks_outside_window"] == 0
    assert (untimed["wins_control"], untimed["wins_variant"]) != (
        got["wins_control"],
        got["wins_variant"],
    )


def test_the_trust_check_names_the_clicks_outside_the_window() -> None:
    df = timed_events()
    analysis = analyze_interleaving(_spec(), _engine(df))
    [check] = [c for c in analysis.trust if c.name == "interleaving_click_window"]
    outside = reference(df, 30)["clicks_outside_window"]
    assert check.status == "warn"
    assert f"{outside:,}" in check.message
    assert "30 minutes" in check.message
    shown_at = df.loc[df["event"] != "click", "timestamp"].min()
    clicks = (df["event"] == "click") & ~df["event_id"].str.endswith("-stray")
    on_time = df[(df["event"] != "click") | (clicks & (df["timestamp"] == shown_at))]
    checks = analyze_interleaving(_spec(), _engine(on_time)).trust
    assert [c.name for c in checks] == ["interleaving_clicks"]
    assert checks[0].status == "pass"


def test_the_window_is_checked_in_the_spec() -> None:
    assert _spec().interleaving is not None
    assert _spec().interleaving.click_window_minutes == 30  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="click_window_minutes"):
        _spec(click_window_minutes=0)

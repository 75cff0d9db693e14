"""An interleaving experiment over real HTTP: the example spec created and started, lists
interleaved by the SDK and by ``POST /v1/interleave``, clicks sent as events, and the
analysis read back with the better ranker found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from server.live import Live
from shipit.sdk import ShipitClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "interleaving.yaml"
KEY = "search-interleaving"
SESSIONS_SDK = 800
SESSIONS_HTTP = 60


def _rankings(rng: np.random.Generator) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Twelve documents of one query; the learned ranker orders them by relevance (noisily),
    BM25 at random: the learned one is the better ranker."""
    docs = [f"doc-{int(i)}" for i in rng.choice(10_000, size=12, replace=False)]
    relevance = rng.beta(0.6, 2.0, size=12)
    learned = [docs[i] for i in np.argsort(-(relevance + rng.normal(0, 0.05, 12)))]
    bm25 = [docs[i] for i in rng.permutation(12)]
    return {"bm25": bm25, "learned": learned}, dict(zip(docs, relevance.tolist(), strict=True))


def _clicks(items: list[str], relevance: dict[str, float], rng: np.random.Generator) -> list[str]:
    """Position-biased clicks: the item at position p is seen with probability 1/p."""
    seen = rng.random(len(items)) < 1.0 / np.arange(1, len(items) + 1)
    return [i for k, i in enumerate(items) if seen[k] and rng.random() < relevance[i]]


@pytest.mark.slow
def test_interleaving_served_and_analysed_end_to_end(live: Live) -> None:
    with live.client(live.admin) as admin:
        made = admin.post("/v1/experiments", json={"yaml": EXAMPLE.read_text()})
        assert made.status_code == 201, made.text
        assert admin.post(f"/v1/experiments/{KEY}/start").json()["status"] == "running"
    client = ShipitClient(live.url, live.sdk, start=False, batch_size=5_000)
    assert client.refresh()
    rng = np.random.default_rng(21)
    wins = {"bm25": 0, "learned": 0}
    sessions = 0

    def credit(rankers: list[str], items: list[str], clicked: list[str]) -> None:
        nonlocal sessions
        sessions += 1
        team = dict(zip(items, rankers, strict=True))
        got = {r: sum(team[c] == r for c in clicked) for r in wins}
        if got["bm25"] != got["learned"]:
            wins[max(got, key=got.__getitem__)] += 1

    for s in range(SESSIONS_SDK):
        rankings, relevance = _rankings(rng)
        shown = client.interleave(KEY, f"user-{s % 400}", f"query-{s}", rankings)
        assert shown is not None
        assert shown.interleaved
        assert len(shown.items) == 10
        clicked = _clicks(list(shown.items), relevance, rng)
        for item in clicked:
            client.track("search_click", shown.unit_id, properties=shown.click_properties(item))
        credit(list(shown.rankers), list(shown.items), clicked)

    with live.client(live.sdk) as sdk:
        for s in range(SESSIONS_HTTP):
            rankings, relevance = _rankings(rng)
            unit, query = f"user-{s % 50}", f"http-query-{s}"
            body = {"experiment": KEY, "unit_id": unit, "query": query, "rankings": rankings}
            r = sdk.post("/v1/interleave", json=body)
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["impressions_stored"] == 10
            # The server and the SDK merge the same way.
            local = client.interleave(KEY, unit, query, rankings)
            assert local is not None
            assert [i["item_id"] for i in got["items"]] == list(local.items)
            assert [i["ranker"] for i in got["items"]] == list(local.rankers)
            items = [i["item_id"] for i in got["items"]]
            clicked = _clicks(items, relevance, rng)
            for item in clicked:
                props = {"session_id": got["session_id"], "item_id": item}
                client.track("search_click", unit, properties=props)
            credit([i["ranker"] for i in got["items"]], items, clicked)
        again = sdk.post("/v1/interleave", json=body).json()
        assert again["impressions_stored"] == 0  # the same session is stored once
        bad = sdk.post("/v1/interleave", json={**body, "rankings": {"bm25": ["a"], "x": ["b"]}})
        assert bad.status_code in (400, 422)
        assert "unknown ranker 'x'" in bad.text
        dup = sdk.post(
            "/v1/interleave", json={**body, "rankings": {"bm25": ["a", "a"], "learned": ["b"]}}
        )
        assert dup.status_code in (400, 422)
        assert "rankings.bm25[1]: item 'a' is listed twice" in dup.text
    assert client.flush()
    assert client.stats.rejected == client.stats.dropped == 0

    with live.client(live.admin) as admin:
        run = admin.post(f"/v1/experiments/{KEY}/analyses", json={})
        assert run.status_code == 201, run.text
        result = run.json()
    il = result["interleaving"]
    # The engine's counts are the ones made here from what was shown and clicked.
    assert il["sessions"] == SESSIONS_SDK + SESSIONS_HTTP == sessions
    assert (il["wins_control"], il["wins_variant"]) == (wins["bm25"], wins["learned"])
    decisive = wins["bm25"] + wins["learned"]
    assert il["p_value"] == stats.binomtest(wins["learned"], decisive, 0.5).pvalue
    # The better ranker is found.
    assert il["ci_low"] > 0.5
    assert result["verdict"]["decision"] == "ship"
    assert result["verdict"]["variant"] == "learned"
    assert 0 < il["sessions_needed"] < il["ab_sessions_needed"], il
    with live.client(live.read) as anyone:
        page = anyone.get(f"/experiments/{KEY}")
    assert page.status_code == 200
    assert "Interleaving" in page.text

"""``"method": "sequential"`` in the stats contract: keys, values against the library on the
same effects, the published boundary, and named errors for bad settings."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from shipit.analysis.given import run_stats
from shipit.errors import InputError
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.sequential import asymptotic_cs, msprt

BASE: dict[str, Any] = {
    "alpha": 0.05,
    "correction": "none",
    "method": "sequential",
    "metrics": [
        {
            "name": "conversion",
            "kind": "proportion",
            "variants": {
                "control": {"n": 10000, "sum": 500},
                "treatment": {"n": 10120, "sum": 620},
            },
        }
    ],
}


def _request(sequential: dict[str, Any], alternative: str = "two-sided") -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["sequential"] = sequential
    data["alternative"] = alternative
    return data


def _reference() -> Any:
    m = Moments.from_sums(
        ["control", "treatment"], ["y"], [10000, 10120], [[500], [620]], [[[500]], [[620]]]
    )
    return compare(m["control"], m["treatment"], "proportion")


def test_msprt_with_a_horizon_adds_the_always_valid_keys() -> None:
    row = run_stats(_request({"kind": "msprt", "horizon": 50_000}))["results"][0]
    ref = _reference()
    se, n = ref.abs_se[0], (10000 + 10120) / 2
    tau2 = se**2 * n / 50_000 * (-2 * np.log(0.05) + np.log(1 - 2 * np.log(0.05)))
    expected = msprt(ref.abs_effect[0], se, tau2=tau2)
    assert row["p_value_always_valid"] == pytest.approx(float(expected.p_value))
    assert row["seq_ci_low"] == pytest.approx(float(expected.ci_low))
    assert row["seq_ci_high"] == pytest.approx(float(expected.ci_high))
    assert row["seq_ci_low"] < row["abs_ci_low"]  # wider than the fixed-horizon interval
    assert row["significant"] == (row["p_value_always_valid"] < 0.05)


def test_msprt_with_tau_and_the_asymptotic_sequence() -> None:
    ref = _reference()
    row = run_stats(_request({"kind": "msprt", "tau": 0.01}))["results"][0]
    expected = msprt(ref.abs_effect[0], ref.abs_se[0], tau2=1e-4)
    assert row["p_value_always_valid"] == pytest.approx(float(expected.p_value))
    rel = msprt(ref.rel_effect[0], ref.rel_se[0], tau2=(0.01 / 0.05) ** 2)
    assert row["seq_rel_ci_high"] == pytest.approx(float(rel.ci_high))
    row = run_stats(_request({"kind": "asymptotic", "horizon": 30_000}))["results"][0]
    a = asymptotic_cs(ref.abs_effect[0], ref.abs_se[0], 20120, expected_n=60_000)
    assert row["seq_ci_high"] == pytest.approx(float(a.ci_high))


def test_gst_reports_the_boundary_z_and_decision_at_the_look() -> None:
    seq = {"kind": "gst", "spending": "obf", "rho": 2, "looks": [0.25, 0.5, 0.75, 1.0]}
    ref = _reference()
    z = ref.abs_effect[0] / ref.abs_se[0]
    for look, boundary in ((1, 4.3326), (2, 2.9631), (4, 2.0141)):
        row = run_stats(_request({**seq, "look": look}))["results"][0]
        assert row["boundary_z"] == pytest.approx(boundary, abs=2e-3)
        assert row["z"] == pytest.approx(z)
        assert row["decision"] == ("efficacy" if z >= boundary else "continue")
        assert row["significant"] == (row["decision"] == "efficacy")
        half = row["boundary_z"] * ref.abs_se[0]
        assert row["seq_ci_low"] == pytest.approx(ref.abs_effect[0] - half)
        assert row["seq_ci_high"] == pytest.approx(ref.abs_effect[0] + half)
    one_sided = run_stats(_request({**seq, "look": 1}, alternative="less"))["results"][0]
    assert one_sided["decision"] == "continue"
    assert one_sided["seq_ci_low"] is None


def test_gst_final_look_without_efficacy_is_futility() -> None:
    data = _request({"kind": "gst", "spending": "pocock", "looks": [0.5, 1.0], "look": 2})
    data["metrics"][0]["variants"]["treatment"]["sum"] = 505
    row = run_stats(data)["results"][0]
    assert row["decision"] == "futility"


@pytest.mark.parametrize(
    ("sequential", "message"),
    [
        (None, "needs a 'sequential' object"),
        ({"kind": "bayes"}, "sequential.kind"),
        ({"kind": "msprt"}, "exactly one of 'tau' or 'horizon'"),
        ({"kind": "msprt", "tau": 1, "horizon": 10}, "exactly one"),
        ({"kind": "msprt", "tau": -1}, "sequential.tau"),
        ({"kind": "asymptotic"}, "horizon"),
        ({"kind": "gst", "spending": "hsd", "looks": [1.0], "look": 1}, "sequential.spending"),
        ({"kind": "gst", "looks": [0.5, 1.0], "look": 3}, "sequential.look"),
        ({"kind": "gst", "looks": "0.5", "look": 1}, "sequential.looks"),
        ({"kind": "gst", "looks": [0.5, 0.4], "look": 1}, "fractions"),
    ],
)
def test_bad_sequential_settings_are_named(sequential: Any, message: str) -> None:
    data = _request(sequential) if sequential is not None else copy.deepcopy(BASE)
    with pytest.raises(InputError, match=message):
        run_stats(data)


def test_a_metric_can_override_the_settings() -> None:
    data = _request({"kind": "msprt", "horizon": 50_000})
    data["metrics"][0]["sequential"] = {"kind": "gst", "looks": [1.0], "look": 1}
    row = run_stats(data)["results"][0]
    assert "decision" in row
    assert "p_value_always_valid" not in row

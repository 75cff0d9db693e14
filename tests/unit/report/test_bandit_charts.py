"""The bandit's two charts: the weights each period served, and each variant's
inverse-propensity mean with its interval, read back from the figures' data."""

from __future__ import annotations

from datetime import datetime

import pytest

from shipit.report.bandit_charts import bandit_estimates_chart, bandit_weights_chart
from shipit.report.chart_style import CONTROL_COLOR, PALETTE
from shipit.report.charts import all_charts
from shipit.result.model import Analysis


def test_weights_are_steps_per_variant_from_each_period_start(analysis: Analysis) -> None:
    fig = bandit_weights_chart(analysis)
    assert fig is not None
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"control", "new_recommender"}
    new = traces["new_recommender"]
    assert list(new.y) == [0.5, 0.8]
    assert [datetime.fromisoformat(str(x)).day for x in new.x] == [5, 12]
    assert new.line.shape == "hv"
    assert traces["control"].line.color == CONTROL_COLOR
    assert new.line.color == PALETTE[0]  # the treatment's colour in every other chart


def test_a_spec_only_bandit_is_drawn_against_the_period_number(analysis: Analysis) -> None:
    assert analysis.bandit is not None
    start = analysis.bandit.periods[0].model_copy(
        update={"started_at": "1970-01-01T00:00:00+00:00"}
    )
    one = analysis.model_copy(
        update={"bandit": analysis.bandit.model_copy(update={"periods": (start,)})}
    )
    fig = bandit_weights_chart(one)
    assert fig is not None
    assert [list(t.x) for t in fig.data] == [[0], [0]]
    assert fig.layout.xaxis.title.text == "period"


def test_estimates_carry_the_ipw_interval_and_the_plain_mean(analysis: Analysis) -> None:
    fig = bandit_estimates_chart(analysis)
    assert fig is not None
    traces = {t.name: t for t in fig.data}
    new = traces["new_recommender (IPW)"]
    assert list(new.y) == [304.0]
    assert new.error_y.array[0] == pytest.approx(2.0)  # 306 - 304
    assert new.error_y.arrayminus[0] == pytest.approx(2.0)  # 304 - 302
    assert list(traces["plain mean (biased)"].y) == [269.0, 305.0]
    assert "95% intervals" in fig.layout.title.text


def test_no_bandit_no_bandit_charts(analysis: Analysis) -> None:
    plain = analysis.model_copy(update={"bandit": None})
    assert bandit_weights_chart(plain) is None
    assert bandit_estimates_chart(plain) is None
    assert not {"bandit_weights", "bandit_estimates"} & set(all_charts(plain))

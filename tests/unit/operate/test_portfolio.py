"""The portfolio's numbers on a registry whose history is known (times set in the audit log)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from operate.build import analysis, experiment, save
from shipit.cli.main import app
from shipit.operate.portfolio import portfolio
from shipit.registry import SqlAlchemyRepository, open_registry
from shipit.registry.audit import record
from shipit.spec import Decision


def _history(repo: SqlAlchemyRepository, key: str, start: datetime, days: float, d: str) -> None:
    """An experiment started at ``start`` and decided ``d`` ``days`` later."""
    repo.create(experiment(key, salt=key))
    with repo.engine.begin() as conn:
        record(conn, key, start, "ana", "start", {})
    repo.start(key)  # a later start entry: the first one counts
    repo.decide(key, d, stop_running=True)
    with repo.engine.begin() as conn:
        record(conn, key, start + timedelta(days=days), "ana", "decide", {"decision": d})


def _registry() -> SqlAlchemyRepository:
    repo = open_registry()
    _history(repo, "a", datetime(2026, 1, 15, tzinfo=UTC), 10, "ship")
    _history(repo, "b", datetime(2026, 2, 1, tzinfo=UTC), 4, "kill")
    _history(repo, "c", datetime(2026, 7, 1, tzinfo=UTC), 2, "halt")
    save(repo, analysis("c", decision=Decision.HALT))
    repo.create(experiment("d", salt="d"))  # a draft, never started
    repo.create(experiment("e", salt="e"))
    repo.start("e")
    save(repo, analysis("e", decision=Decision.ITERATE))
    return repo


def test_portfolio_numbers() -> None:
    repo = _registry()
    result = portfolio(repo)
    now = datetime.now(UTC)
    this_quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    assert result.experiments == 5
    assert result.per_quarter == {"2026-Q1": 2, "2026-Q3": 1, this_quarter: 1}
    assert result.never_started == 1
    assert result.decisions == {"halt": 1, "kill": 1, "ship": 1}
    assert result.win_rate == 1 / 3
    assert result.median_days_to_decision == 4.0  # median of 10, 4 and 2 days
    assert (result.analysed, result.halted, result.halted_share) == (2, 1, 0.5)
    repo.close()


def test_portfolio_cli_json_and_table() -> None:
    _registry().close()
    runner = CliRunner()
    out = json.loads(runner.invoke(app, ["portfolio", "--format", "json"]).output)
    assert out["decisions"] == {"halt": 1, "kill": 1, "ship": 1}
    assert out["halted_share"] == 0.5
    table = runner.invoke(app, ["portfolio"]).output
    assert "win rate: 33% of decisions ship" in table
    assert "median days from start to decision: 4.0" in table
    assert "halted by trust checks: 1 of 2 analysed (50%)" in table


def test_empty_portfolio() -> None:
    result = portfolio(open_registry())
    assert result.experiments == 0
    assert result.win_rate is None
    assert result.median_days_to_decision is None


def test_portfolio_dashboard_page() -> None:
    from fastapi.testclient import TestClient

    from shipit.server import ServerSettings, create_app

    _registry().close()
    settings = ServerSettings(
        database_url=open_registry().engine.url.render_as_string(hide_password=False),
        store=":memory:",
        open_dashboard=True,
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/portfolio")
    assert page.status_code == 200
    assert 'id="nav-portfolio"' in page.text
    assert "<td>2026-Q1</td><td>2</td>" in page.text
    assert "<td>ship</td><td>1</td>" in page.text
    assert "1 of 2 analysed" in page.text

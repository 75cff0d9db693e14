"""``shipit keys create|list|revoke`` and ``shipit serve`` through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipit.cli.main import app


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    from shipit.errors import AuthError
    from shipit.registry.keys import KeyRepository

    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner()
    made = runner.invoke(
        app, ["keys", "create", "checkout-web", "--scope", "sdk", "--database-url", url]
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("shipit_")
    repo = KeyRepository.from_url(url)
    key = repo.verify(token)
    assert (key.name, key.scope) == ("checkout-web", "sdk")
    listed = runner.invoke(app, ["keys", "list", "--database-url", url])
    assert key.prefix in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", key.prefix, "--database-url", url])
    assert revoked.exit_code == 0
    with pytest.raises(AuthError, match="revoked"):
        repo.verify(token)


def test_keys_refuse_bad_input(tmp_path: Path) -> None:
    from shipit.errors import InputError, NotFoundError
    from shipit.registry.keys import KeyRepository

    repo = KeyRepository.from_url(f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(InputError, match="scope"):
        repo.create("x", "root")
    with pytest.raises(NotFoundError, match="nope"):
        repo.revoke("nope")


def test_serve_passes_options_to_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = CliRunner().invoke(
        app,
        ["serve", "--port", "9123", "--database-url", url, "--store", str(tmp_path / "s.duckdb")],
    )
    assert result.exit_code == 0, result.output
    assert seen["port"] == 9123
    assert seen["host"] == "127.0.0.1"
    assert seen["app"].title == "shipit"


@pytest.mark.parametrize("missing", ["uvicorn", "fastapi"])
def test_serve_without_server_packages_says_what_to_install(tmp_path: Path, missing: str) -> None:
    # A module set to None in sys.modules fails to import, as if it were not installed.
    code = (
        f"import sys; sys.modules[{missing!r}] = None; sys.argv = ['shipit', 'serve']\n"
        "from shipit.cli.main import main\nmain()"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "shipit serve needs the server packages" in done.stderr
    assert "pip install 'shipit[server]'" in done.stderr

"""``shipit demo`` saves its analysis in the registry: a real server on the demo folder shows
the verdict (API and dashboard) instead of "not analysed"."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from server.live import ThreadServer, free_port, wait_ready
from shipit.cli.demo_run import run_demo
from shipit.registry.keys import KeyRepository
from shipit.result.schema import to_json
from shipit.server import ServerSettings, create_app


def test_serve_on_the_demo_folder_shows_its_verdict(tmp_path: Path) -> None:
    out = tmp_path / "shipit-demo"
    result = run_demo("ecommerce", 3_000, out, seed=1)
    url = f"sqlite:///{out / 'registry.db'}"
    keys = KeyRepository.from_url(url)
    read = keys.create("viewer", "read").token
    keys.engine.dispose()
    port = free_port()
    app = create_app(ServerSettings(port=port, database_url=url, store=str(result.store)))
    with ThreadServer(app, port):
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        auth = {"Authorization": f"Bearer {read}"}
        latest = httpx.get(f"{base}/v1/experiments/ecommerce/analyses/latest", headers=auth)
        assert latest.status_code == 200, latest.text
        body = latest.json()
        assert body == json.loads(to_json(result.analysis))
        assert body["verdict"]["decision"] == "roll_back"
        page = httpx.get(f"{base}/", headers=auth)
        assert page.status_code == 200
        assert "not analysed" not in page.text
        assert 'class="light red" title="roll_back"' in page.text
        detail = httpx.get(f"{base}/experiments/ecommerce", headers=auth)
        assert detail.status_code == 200
        assert "page_load_ms" in detail.text

"""Every command block of README.md runs as written, in order, in a fresh folder.

The folder holds what a clone ships beside the package (examples/, benchmarks/), and
``shipit``/``python`` run this tree's sources. Set-up lines skip their ``pip install``
part; the README's test command is this suite, so it is checked, not run again. The few
long commands run with small sizes: the demo through SHIPIT_DEMO_USERS, simulations
through the smaller sizes in SMALL; ``shipit serve`` runs in the background while the
README's Python SDK example talks to it; benchmarks (which install reference packages on
first run) are run with ``--help`` only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEST_COMMAND = "pip install -e '.[dev]' && python -m pytest"
DEMO_USERS = "1500"
# Size flags of long simulations -> the small value the test runs them with.
SMALL = {"--experiments": "200", "--units": "500", "--runs": "20", "--sessions": "200"}
SIMULATE = re.compile(r"^shipit simulate ")


def blocks(language: str) -> list[str]:
    """The README's fenced blocks in ``language``, in order."""
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def commands() -> list[str]:
    """Each command of the bash blocks, continuation lines joined, comments kept."""
    out: list[str] = []
    for block in blocks("bash"):
        out.extend(c.strip() for c in block.replace("\\\n", " ").splitlines() if c.strip())
    return out


def _small(command: str) -> str:
    """A simulation with its size flags scaled down (other commands unchanged)."""
    if not SIMULATE.match(command):
        return command
    for flag, value in SMALL.items():
        command = re.sub(rf"{flag} \d+", f"{flag} {value}", command)
    return command


def _bin(folder: Path) -> Path:
    """``shipit`` and ``python`` shims that run this tree's sources with this interpreter."""
    folder.mkdir()
    for name, target in (("shipit", f'"{sys.executable}" -m shipit'), ("python", sys.executable)):
        shim = folder / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    return folder


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with the files a clone ships beside the package, and the environment."""
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("examples", "benchmarks"):
        shutil.copytree(ROOT / name, work / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPIT_")}
    env["PATH"] = f"{_bin(tmp_path / 'bin')}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT / "src")
    env["SHIPIT_DEMO_USERS"] = DEMO_USERS
    env["COLUMNS"] = "120"
    return work, env


def _run(command: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, f"{command}\n{done.stderr[-3000:]}"
    return done.stdout


def _wait(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "shipit serve exited"
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"shipit serve did not answer at {url}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python_example(code: str, url: str, sdk_key: str) -> str:
    """The README's SDK example against the test's server, with the key it created, checking
    that its unit gets a variant (a wrong experiment key would give None silently)."""
    code = code.replace("http://127.0.0.1:8000", url)
    code = re.sub(r'^sdk_key = "[^"\n]*"', f"sdk_key = {sdk_key!r}", code, flags=re.M)
    call = re.search(r"^(client\.variant\(.*\))", code, flags=re.M)
    assert call is not None, "the SDK example asks for a variant"
    check = f"assert {call.group(1)} is not None, 'the example unit gets no variant'\n"
    return code.replace("client.close()", f"{check}client.close()")


def test_the_readme_blocks_parse_as_expected() -> None:
    cmds = commands()
    assert cmds[0] == "pip install -e . && shipit demo"
    assert cmds[1] == TEST_COMMAND
    assert any(c.startswith("shipit serve") for c in cmds)
    assert len(blocks("python")) == 1
    assert "ShipitClient" in blocks("python")[0]


def test_shipped_example_data_is_what_its_generator_writes(tmp_path: Path) -> None:
    folder = ROOT / "examples" / "checkout"
    subprocess.run(
        [sys.executable, str(folder / "generate.py"), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
        capture_output=True,
    )
    for name in ("exposures.csv", "events.csv", "units.txt"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


@pytest.mark.slow
def test_every_readme_command_runs_in_a_fresh_folder(
    clone: tuple[Path, dict[str, str]],
) -> None:
    work, env = clone
    sdk_key = ""
    server: subprocess.Popen[bytes] | None = None
    url = ""
    try:
        for command in commands():
            if command == TEST_COMMAND:
                continue  # this suite is what it runs; CI calls it as written
            command = re.sub(r"^pip install [^&]*&& ", "", command)
            if command.startswith("python benchmarks/"):
                script = command.split()[1]
                assert (work / script).is_file(), command
                _run(f"python {script} --help", work, env)
                continue
            if command.startswith("shipit serve"):
                port = _free_port()
                url = f"http://127.0.0.1:{port}"
                argv = command.split("#")[0].replace("--port 8000", f"--port {port}").split()
                server = subprocess.Popen(
                    argv, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
                _wait(url, server)
                continue
            out = _run(_small(command), work, env)
            if command.startswith("shipit keys create my-app"):
                sdk_key = out.strip()
        assert server is not None, "the README starts the server"
        assert sdk_key, "the README creates an SDK key"
        pytest.importorskip("httpx")
        example = work / "sdk_example.py"
        example.write_text(_python_example(blocks("python")[0], url, sdk_key), encoding="utf-8")
        _run(f"python {example.name}", work, env)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    assert (work / "shipit-demo" / "report.html").is_file()
    assert (work / "report.md").is_file()

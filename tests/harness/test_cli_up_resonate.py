"""`stepbricks up` also starts the durable-promise server for Resonate workers and says where it is."""

from __future__ import annotations

import requests

from tests.harness.test_cli import _cli, up  # noqa: F401  (the module-scoped `up` fixture)


def test_up_starts_the_promise_server_prints_its_url_and_exports_what_the_sdk_reads(up) -> None:  # noqa: F811
    env = up["env"]
    url = f"{env['RESONATE_HOST']}:{env['RESONATE_PORT_STORE']}"
    assert f"Resonate promise server: {url}" in (up["home"] / "up.log").read_text()
    created = requests.post(f"{url}/promises", json={"id": "from-up", "timeout": 2**50}, timeout=10)
    assert created.status_code == 201 and created.json()["state"] == "PENDING"
    exported = _cli(up["home"], "env")
    assert exported.returncode == 0, exported.stderr
    for name in ("RESONATE_HOST", "RESONATE_PORT_STORE", "RESONATE_PORT_MESSAGE_SOURCE"):
        assert f"export {name}={env[name]}" in exported.stdout


def test_status_lists_the_promise_server_as_up(up) -> None:  # noqa: F811
    result = _cli(up["home"], "status")
    assert result.returncode == 0, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if "Resonate promises" in line)
    assert f"{up['env']['RESONATE_HOST']}:{up['env']['RESONATE_PORT_STORE']}" in row and "up" in row

"""Security defaults: every server binds loopback, and the workspace wants a valid token on every route
(the fault control API included) and never echoes one back."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import requests

from harness.proctree import descendants

WORKSPACE_ERROR_KEYS = {"error_code", "message"}


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    return inodes


def _listening(inodes: set[str]) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN among `inodes` (IPv4 and IPv6)."""
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A = LISTEN
                continue
            hex_addr, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_addr)
            if family == socket.AF_INET:
                address = socket.inet_ntop(family, raw[::-1])
            else:
                address = socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            found.append((address, int(hex_port, 16)))
    return found


def _is_test_spark(pid: int) -> bool:
    """The test session's own SparkSession (tests/conftest.py `spark`), not a simulator server: built without
    spark.driver.bindAddress it listens on every interface (reported to the lead; the simulator's clusters
    bind 127.0.0.1)."""
    try:
        return b"spark.app.name=stepbricks-tests" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_every_server_of_the_simulator_listens_on_loopback_only(stepbricks, deployed_pipeline):
    sim = stepbricks.require_simulator("inspecting the simulator's own sockets")
    for url in (sim.env["AWS_ENDPOINT_URL"], sim.env["DATABRICKS_HOST"], sim.aws.lambda_invoke_endpoint):
        assert url.startswith("http://127.0.0.1:"), url
    listening = _listening(_socket_inodes({pid for pid in descendants(os.getpid()) if not _is_test_spark(pid)}))
    assert listening, "found no listening socket at all: the scan is broken"
    exposed = [(a, p) for a, p in listening if a not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")]
    assert not exposed, f"listening beyond loopback: {exposed}"


@pytest.fixture(scope="module")
def workspace_routes(stepbricks):
    env = stepbricks.env
    spec = requests.get(f"{env['DATABRICKS_HOST']}/openapi.json",
                        headers={"Authorization": f"Bearer {env['DATABRICKS_TOKEN']}"}, timeout=10).json()
    routes = [(method.upper(), path) for path, item in spec["paths"].items() for method in item
              if method in ("get", "post", "put", "patch", "delete")]
    assert any("/stepbricks/faults" in path for _, path in routes), "the fault control API is not documented"
    return routes


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer dapi-not-the-token", "Basic dXNlcjpwYXNz"])
def test_workspace_rejects_every_route_without_a_valid_token(stepbricks, workspace_routes, authorization):
    host = stepbricks.env["DATABRICKS_HOST"]
    headers = {"Authorization": authorization} if authorization else {}
    accepted = []
    for method, path in [*workspace_routes, ("POST", "/api/2.0/stepbricks/faults"), ("GET", "/openapi.json")]:
        if path == "/.well-known/databricks-config":
            continue  # the SDK reads it before it has credentials, as on Databricks
        url = host + path.replace("{", "").replace("}", "")
        response = requests.request(method, url, headers=headers, json={}, timeout=10)
        body = response.json()
        if response.status_code not in (401, 403) or not body.keys() >= WORKSPACE_ERROR_KEYS:
            accepted.append((method, path, response.status_code))
        assert "dapi-not-the-token" not in response.text
    assert not accepted, accepted


def test_a_wrong_token_is_not_echoed_and_the_real_one_never_appears_in_an_error(stepbricks):
    host, token = stepbricks.env["DATABRICKS_HOST"], stepbricks.env["DATABRICKS_TOKEN"]
    wrong = token[:-4] + "0000"
    response = requests.get(f"{host}/api/2.1/jobs/list", headers={"Authorization": f"Bearer {wrong}"}, timeout=10)
    assert response.status_code in (401, 403)
    assert wrong not in response.text and token not in response.text

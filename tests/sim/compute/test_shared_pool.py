"""Idle warm workers that outlive their process (`sim.compute.shared_pool`, `STEPBRICKS_WORKER_POOL_DIR`):
the next process with a compatible cluster leases the worker the last one left, as a second `stepbricks run`
would, and nothing else can: one claimer wins, a wrong key is refused, the directory is bounded, an
unclaimed worker leaves after its idle time, and a sweep ends them all."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from sim.compute import shared_pool
from sim.private_file import write_private

ROOT = Path(__file__).resolve().parents[3]

FLY = textwrap.dedent("""\
    import json, os, sys
    from pathlib import Path
    from sim.compute import ClusterManager, TaskInvocation, pool
    state, name, crash = Path(sys.argv[1]), sys.argv[2], sys.argv[3:] == ["crash"]
    notebook = state / f"{name}.py"
    notebook.write_text("# Databricks notebook source\\nimport os, json\\n"
                        "print('output of', os.environ['DATABRICKS_HOST'])\\n"
                        + ("os._exit(3)\\n" if crash else "")
                        + "dbutils.notebook.exit(json.dumps([os.getpid(), os.environ['DATABRICKS_HOST']]))\\n")
    env = {"DATABRICKS_HOST": f"http://{name}.invalid", "DATABRICKS_TOKEN": name,
           "DATABRICKS_CONFIG_FILE": os.devnull}
    with ClusterManager(state / name, env, worker_pool=pool.shared()) as manager:
        cluster = manager.get(manager.default_cluster_id())
        result = cluster.run(TaskInvocation(run_id=1, task_key="t", attempt_number=0, kind="notebook",
                                            source_path=notebook)).wait(300)
        session = cluster.session
        log = cluster.log_path.read_text()
    pid, host = json.loads(result.notebook_result) if result.notebook_result else (result.worker_pid, None)
    print(json.dumps({"outcome": result.outcome, "error": result.error, "pid": pid, "host": host,
                      "pooled": session.pooled if session else None, "shared": pool.shared().shared_leased,
                      "log": log}))
""")


def _fly(tmp: Path, name: str, directory: Path, *args: str, **extra: str) -> dict:
    script = tmp / "fly.py"
    script.write_text(FLY)
    env = {**os.environ, "PYTHONPATH": str(ROOT), shared_pool.POOL_DIR_ENV: str(directory), **extra}
    done = subprocess.run([sys.executable, str(script), str(tmp), name, *args], env=env, capture_output=True,
                          text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _adverts(directory: Path, timeout: float = 60) -> list[dict]:
    """The directory's adverts once there is one (a worker resets for 0.3-3 s before it advertises)."""
    deadline = time.monotonic() + timeout
    while not list(directory.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [json.loads(path.read_text()) for path in directory.glob("*.json")]


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_the_next_process_leases_the_idle_worker_the_last_one_left_and_sees_nothing_of_it(tmp_path):
    directory = tmp_path / "pool"
    first = _fly(tmp_path, "first", directory)
    assert (first["outcome"], first["pooled"], first["shared"]) == ("SUCCESS", False, 0)
    [advert] = _adverts(directory)
    assert advert["pid"] == os.getpgid(first["pid"]), "the advert names the worker's group (its keeper)"
    # the advert holds the socket's authkey: this user's alone
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(next(directory.glob("*.json")).stat().st_mode) == 0o600

    second = _fly(tmp_path, "second", directory)
    assert (second["outcome"], second["pooled"], second["shared"]) == ("SUCCESS", True, 1)
    assert second["pid"] == first["pid"], "the second process's task ran on the first one's worker"
    assert second["host"] == "http://second.invalid", "the lease binds the new process's endpoints"
    assert "output of http://second.invalid" in second["log"] and "runs on a warm worker" in second["log"]
    assert "first.invalid" not in second["log"], "each cluster's driver log has its own lines only"

    [again] = _adverts(directory)  # back once the second process is gone too
    assert again["pid"] == advert["pid"]
    assert shared_pool.sweep(directory) == 1
    assert _gone(first["pid"]), "a sweep kills the advertised worker"
    assert not list(directory.glob("*.json"))
    assert not Path(advert["scratch"]).exists()


def test_a_leased_worker_s_exit_status_reaches_the_process_that_leased_it(tmp_path):
    """Not its parent, the second process still learns why the worker died: its keeper (sim.compute.keeper)
    kept the status, as `cluster worker died (exit code N)` says when the manager did start the worker."""
    directory = tmp_path / "pool"
    first = _fly(tmp_path, "first", directory)
    _adverts(directory)
    crashed = _fly(tmp_path, "second", directory, "crash")
    assert crashed["outcome"] == "INTERNAL_ERROR" and crashed["shared"] == 1
    assert crashed["error"].startswith("cluster worker died (exit code 3)"), crashed["error"]
    assert _gone(first["pid"])
    assert not list(directory.glob(".exit-*")), "the status is read once and removed"


def test_an_unclaimed_worker_leaves_after_its_idle_time_and_takes_its_scratch(tmp_path):
    directory = tmp_path / "pool"
    first = _fly(tmp_path, "first", directory, STEPBRICKS_WORKER_POOL_IDLE_SECONDS="2")
    [advert] = _adverts(directory)
    assert _gone(first["pid"]), "an advertised worker nobody claims exits after its idle time"
    assert not list(directory.glob("*.json")) and not Path(advert["scratch"]).exists()


def test_without_a_pool_directory_nothing_outlives_the_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != shared_pool.POOL_DIR_ENV}
    script = tmp_path / "fly.py"
    script.write_text(FLY)
    done = subprocess.run([sys.executable, str(script), str(tmp_path), "alone"], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _gone(json.loads(done.stdout.strip().splitlines()[-1])["pid"])


# --- the directory's protocol, with stand-in workers ------------------------------------------------------
def _stand_in(tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    """A process that looks like a worker (`sim.compute.worker` on its command line), in its own group."""
    scratch = tmp / f"scratch-{name}"
    scratch.mkdir()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "sim.compute.worker"],
                               start_new_session=True)
    # Until it execs, the child's command line is its parent's: a worker is only ever advertised by itself,
    # once running, so the stand-in must be running too (a CI run caught this window once).
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 30
    while b"sim.compute.worker" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    return process, scratch


def _pool_and_scratch(tmp: Path) -> tuple[Path, Path]:
    """A pool directory as a manager makes it (0700) and a worker's scratch."""
    directory, scratch = tmp / "pool", tmp / "scratch"
    directory.mkdir(mode=0o700)
    scratch.mkdir()
    return directory, scratch


def _advertise(directory: Path, key: str, scratch: Path, idle: float, limit: int = 1) -> dict:
    """Run `advertise_and_wait` in a thread, as an idle worker does; the result lands in the dict."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["connection"] = shared_pool.advertise_and_wait(directory, key, scratch, idle, limit)
        except BaseException as failure:  # said by the test's assertion, not lost in a thread
            outcome["error"] = failure
            raise

    outcome["thread"] = thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not list(directory.glob(f"{key}.*.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return outcome


def test_one_claimer_wins_and_a_wrong_key_claims_nothing(tmp_path):
    directory, scratch = _pool_and_scratch(tmp_path)
    waiting = _advertise(directory, "k1", scratch, idle=30)
    assert shared_pool.claim(directory, "k2") is None
    claims: list = []
    racers = [threading.Thread(target=lambda: claims.append(shared_pool.claim(directory, "k1"))) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(20)
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1, claims
    waiting["thread"].join(10)
    worker_end, claimer_end = waiting["connection"], won[0].connection
    claimer_end.send("hello")  # the two ends are one authenticated connection
    assert worker_end.recv() == "hello"
    assert not list(directory.glob("*.json"))


def test_a_stranger_without_the_authkey_is_refused_and_the_advert_stays(tmp_path):
    directory, scratch = _pool_and_scratch(tmp_path)
    waiting = _advertise(directory, "k", scratch, idle=30)
    [path] = directory.glob("k.*.json")
    advert = shared_pool.Advert(**json.loads(path.read_text()))
    stranger = shared_pool.Advert(**{**advert.__dict__, "authkey": os.urandom(32).hex()})
    assert shared_pool._connect(stranger) is None
    assert path.exists(), "a refused connection claims nothing"
    claimed = shared_pool.claim(directory, "k")
    assert claimed is not None
    waiting["thread"].join(10)
    assert waiting["connection"] is not None


def test_a_full_directory_makes_room_by_killing_its_oldest_worker(tmp_path):
    directory = tmp_path / "pool"
    directory.mkdir(mode=0o700)
    old, old_scratch = _stand_in(tmp_path, "old")
    write_private(directory / f"old.{old.pid}.json", json.dumps(shared_pool.Advert(
        "old", old.pid, str(old_scratch / "pool.sock"), os.urandom(32).hex(), str(old_scratch), 1.0).__dict__))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    waiting = _advertise(directory, "new", scratch, idle=0.5, limit=1)
    try:
        code = old.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    seen = (sorted(p.name for p in directory.iterdir()), waiting.get("error"), Path(f"/proc/{old.pid}/cmdline").read_bytes()
            if Path(f"/proc/{old.pid}").exists() else None)
    assert code == -signal.SIGKILL, f"the oldest advertised worker is killed to make room: {seen}"
    assert not old_scratch.exists() and not list(directory.glob("old.*.json"))
    waiting["thread"].join(10)
    assert waiting["connection"] is None, "unclaimed within its idle time"
    assert not list(directory.glob("*.json")), "an expired advert is withdrawn"


def test_a_worker_claimed_while_a_full_directory_makes_room_is_not_killed_under_its_claimer(tmp_path):
    """Claims take no lock: a worker advertising itself reads the adverts, a process claims the oldest, then
    the eviction comes. It killed the claimed worker, under the claimer's first task (found by reading)."""
    directory = tmp_path / "pool"
    directory.mkdir(mode=0o700)
    old, old_scratch = _stand_in(tmp_path, "old")
    try:
        path = directory / f"old.{old.pid}.json"
        write_private(path, json.dumps(shared_pool.Advert(
            "old", old.pid, str(old_scratch / "pool.sock"), os.urandom(32).hex(), str(old_scratch), 1.0).__dict__))
        [advert] = shared_pool._adverts(directory)  # what the advertising worker read under the lock
        path.rename(path.with_name(f"{path.name}.claimed-1"))  # a claimer's atomic first step, meanwhile

        assert shared_pool._evict(directory, advert) is False
        assert old.poll() is None and old_scratch.exists(), "the claimer's worker is alive, its scratch kept"

        still_advertised = directory / "old.1.json"  # and a worker still advertised is evicted as before
        other = shared_pool.Advert(**{**advert.__dict__, "pid": 1, "scratch": str(tmp_path / "other")})
        write_private(still_advertised, json.dumps(other.__dict__))
        assert shared_pool._evict(directory, other) is True
        assert not still_advertised.exists()
    finally:
        old.kill()
        old.wait()


def test_a_dead_workers_advert_is_skipped_and_removed_and_an_unrelated_process_is_never_killed(tmp_path):
    directory = tmp_path / "pool"
    directory.mkdir(mode=0o700)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # a stale advert whose pid now belongs to a process that is no worker
        write_private(directory / f"k.{bystander.pid}.json", json.dumps(shared_pool.Advert(
            "k", bystander.pid, str(tmp_path / "no.sock"), os.urandom(32).hex(), str(tmp_path / "gone"), 1.0
        ).__dict__))
        assert shared_pool.claim(directory, "k") is None
        assert not list(directory.glob("*.json"))
        assert bystander.poll() is None, "a pid that is not a worker's is never killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_removed_directory_ends_the_wait_at_once(tmp_path):
    directory, scratch = _pool_and_scratch(tmp_path)
    waiting = _advertise(directory, "k", scratch, idle=300)
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    waiting["thread"].join(10)
    assert not waiting["thread"].is_alive() and waiting["connection"] is None


def test_the_key_changes_when_the_simulators_code_does(tmp_path):
    tree = tmp_path / "sim"
    (tree / "compute").mkdir(parents=True)
    module = tree / "compute" / "worker.py"
    module.write_text("x = 1\n")
    before = shared_pool.code_stamp(tree)
    assert shared_pool.code_stamp(tree) == before
    shared_pool.code_stamp.cache_clear()
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 1_000_000))
    assert shared_pool.code_stamp(tree) != before, "a worker never serves a sim edited after it started"


@pytest.fixture(autouse=True)
def _no_stray_workers(tmp_path):
    yield
    shared_pool.sweep(tmp_path / "pool")

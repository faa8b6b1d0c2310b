"""Idle warm workers that outlive their process, for the next process to lease (opt-in, like a Gradle daemon).

The process pool (`sim.compute.pool`) keeps a released worker for the next cluster of the same process; a
process that exits kills it. A developer who runs `stepbricks run` again, or a test that flies the CLI in a
subprocess, then pays a JVM start and a fresh JVM's first Spark jobs again (10-15 CPU s, docs/performance.md).

With `STEPBRICKS_WORKER_POOL_DIR` naming a directory, an idle, reset worker whose manager goes away (the
process exited or was killed) does not exit: it listens on a Unix socket in its own scratch directory and
advertises itself in that directory (`<key>.<pid>.json`, mode 0600: the socket's authkey is in it; the
directory is made 0700). The next process whose cluster needs a worker of the same key claims the advert (an
atomic rename: one claimer wins), connects, authenticates, and leases the worker as it would one of its
own. The key covers what the worker was launched with (interpreter, Spark conf, environment) and the code of
this package, so a worker never serves a checkout or a `sim` it was not started from.

Bounded: at most `STEPBRICKS_WORKER_POOL` adverts in a directory (default 1; the oldest is killed to make
room), each worker exits after `STEPBRICKS_WORKER_POOL_IDLE_SECONDS` unclaimed (default 300) or as soon as
the directory is removed, and `sweep` kills every advertised worker (the test suite does at its end). The
worker's output goes to a file in its scratch directory from its start (not a pipe to the manager, which
would break with the manager's exit), which each manager follows from its lease on.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from pathlib import Path

from sim.private_file import write_private

POOL_DIR_ENV = "STEPBRICKS_WORKER_POOL_DIR"
OUTPUT_NAME = "output.log"  # in the worker's scratch directory
SOCKET_NAME = "pool.sock"
_POLL_SECONDS = 1.0  # how often an advertised worker checks its directory is still there
_CLAIM_WAIT_SECONDS = 10.0  # an advert claimed just as it expired: the claimer connects within this


def pool_dir() -> Path | None:
    """The directory named by `STEPBRICKS_WORKER_POOL_DIR` (None: workers die with their process)."""
    value = os.environ.get(POOL_DIR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


_SIM = Path(__file__).resolve().parent.parent


@functools.cache
def code_stamp(root: Path = _SIM) -> str:
    """A digest of the simulator's sources (paths, sizes, modification times): part of a shared worker's key,
    so an edited `sim` never runs in a worker started before the edit. Computed once per process (~5 ms)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def status_file(directory: Path) -> Path:
    """Where a worker's keeper (sim.compute.keeper) writes its exit status: a file per keeper, named when
    the keeper is spawned, before its pid is known; read and removed by whoever leased the worker last."""
    return directory / f".exit-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Advert:
    key: str
    pid: int
    socket: str
    authkey: str  # hex
    scratch: str
    since: float
    status: str = ""  # the keeper's exit-status file (sim.compute.keeper)


# --- the worker's side ------------------------------------------------------------------------------------
def advertise_and_wait(directory: Path, key: str, scratch: Path, idle_seconds: float, limit: int,
                       status: str = "") -> Connection | None:
    """Advertise this idle worker and wait for a process to claim it: its authenticated connection, or None
    (nobody came within `idle_seconds`, the directory went away, or it is full and this one yields)."""
    if limit <= 0 or not directory.is_dir():  # made by the manager that spawned us; gone: the pool was swept
        return None
    address = scratch / SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        address.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        return _serve_advert(server, directory, key, scratch, address, idle_seconds, limit, status)
    except OSError:
        return None
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            address.unlink()


def _serve_advert(server: socket.socket, directory: Path, key: str, scratch: Path, address: Path,
                  idle_seconds: float, limit: int, status: str) -> Connection | None:
    server.bind(str(address))
    os.chmod(address, 0o600)
    server.listen(1)
    authkey = os.urandom(32)
    group = os.getpgrp()  # the keeper's pid when there is one (sim.compute.keeper): what a claimer waits for
    advert = Advert(key, group, str(address), authkey.hex(), str(scratch), time.time(), status)
    path = directory / f"{key}.{group}.json"
    with _locked(directory):  # raises OSError if the directory was removed meanwhile: no advert then
        adverts = _adverts(directory)
        for old in adverts[: max(len(adverts) - limit + 1, 0)]:  # oldest first: room for this one
            _evict(directory, old)
        _forget_statuses(directory, older_than=3600.0)
        write_private(path, json.dumps(advert.__dict__))
    deadline = time.monotonic() + idle_seconds
    claimed = False
    while True:
        server.settimeout(max(min(_POLL_SECONDS, deadline - time.monotonic()), 0.01))
        try:
            sock, _ = server.accept()
        except TimeoutError:
            if not directory.is_dir():  # swept: nobody will come
                return None
            if time.monotonic() < deadline:
                continue
            if claimed or _withdraw(path):
                return None
            claimed = True  # a claimer took the advert just now: it connects within the wait
            deadline = time.monotonic() + _CLAIM_WAIT_SECONDS
            continue
        connection = authenticate(sock, authkey, serve=True)
        if connection is not None:
            _withdraw(path)  # the claimer removed it already; a stray connection never got this far
            return connection


def _withdraw(path: Path) -> bool:
    """Take this worker's advert back: False if a claimer took it first."""
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


# --- the claiming process's side --------------------------------------------------------------------------
@dataclass
class Claimed:
    process: ForeignProcess
    connection: Connection
    scratch: Path


def claim(directory: Path, key: str) -> Claimed | None:
    """An advertised worker with this key, connected and authenticated; None if there is none alive."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob(f"{key}.*.json"), key=_mtime, reverse=True):
        taken = _take(path, "claimed")  # of several claimers one wins, and the worker cannot withdraw it now
        if taken is None:
            continue
        try:
            advert = Advert(**json.loads(taken.read_text()))
        except (OSError, ValueError, TypeError):
            taken.unlink(missing_ok=True)
            continue
        taken.unlink(missing_ok=True)
        process = ForeignProcess(advert.pid, Path(advert.status) if advert.status else None)
        connection = _connect(advert) if process.poll() is None else None
        if connection is not None:
            return Claimed(process, connection, Path(advert.scratch))
        _kill(advert)  # taken by this claim: dead or unreachable
    return None


def _connect(advert: Advert) -> Connection | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_CLAIM_WAIT_SECONDS)
    try:
        sock.connect(advert.socket)
    except OSError:
        sock.close()
        return None
    return authenticate(sock, bytes.fromhex(advert.authkey), serve=False)


def sweep(directory: Path) -> int:
    """Kill every worker advertised in `directory` (a test session's end, a user's clean-up): how many."""
    if not directory.is_dir():
        return 0
    with _locked(directory):
        evicted = sum(_evict(directory, advert) for advert in _adverts(directory))
        _forget_statuses(directory, older_than=0.0)
    return evicted


def _forget_statuses(directory: Path, older_than: float) -> None:
    """Remove keepers' exit statuses nobody read (a worker that left after its idle time, one whose own
    manager waited for it) once older than `older_than` seconds."""
    now = time.time()
    for path in directory.glob(".exit-*"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime >= older_than:
                path.unlink()


class ForeignProcess:
    """The part of `subprocess.Popen` the cluster manager uses, for a worker another process started.

    Not our child, so not waitable: its exit is seen through a pidfd (Linux 5.3+), and its exit status is
    the one its keeper wrote (sim.compute.keeper), -1 when there is none (the keeper was killed too)."""

    def __init__(self, pid: int, status_file: Path | None = None) -> None:
        self.pid = pid
        self.status_file = status_file
        self._lock = threading.Lock()
        self.returncode: int | None = None
        self.stdout = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (ProcessLookupError, OSError):
            self._pidfd, self.returncode = None, -1

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None and self._pidfd is not None and select.select([self._pidfd], [], [], 0)[0]:
                self._exited()
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        pidfd = self._pidfd
        if self.returncode is None and pidfd is not None and not select.select([pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
        with self._lock:  # the reader waits while the log pump polls: the status is read once, by either
            if self.returncode is None:
                self._exited()
            assert self.returncode is not None
            return self.returncode

    def _exited(self) -> None:
        code = -1
        if self.status_file is not None:
            try:
                code = int(self.status_file.read_text())
                self.status_file.unlink(missing_ok=True)
            except (OSError, ValueError):
                pass
        self.returncode = code  # the pidfd stays open until this object goes: another thread may be in select

    def __del__(self) -> None:
        if getattr(self, "_pidfd", None) is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)  # type: ignore[arg-type]


# --- shared helpers --------------------------------------------------------------------------------------
def _adverts(directory: Path) -> list[Advert]:
    """Every advert in the directory, oldest first (unreadable ones removed)."""
    found = []
    for path in directory.glob("*.json"):
        try:
            found.append(Advert(**json.loads(path.read_text())))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)
    return sorted(found, key=lambda advert: advert.since)


def _evict(directory: Path, advert: Advert) -> bool:
    """Kill a worker still advertised (making room, a sweep): False if a process claimed it meanwhile.

    The advert is taken with the same atomic rename a claim uses (claims do not take the directory's lock):
    read, then killed without it, a worker a process had just claimed would die under that process's first
    task, which would end INTERNAL_ERROR."""
    taken = _take(directory / f"{advert.key}.{advert.pid}.json", "evicted")
    if taken is None:
        return False
    taken.unlink(missing_ok=True)
    _kill(advert)
    return True


def _take(path: Path, why: str) -> Path | None:
    """Own an advert by renaming it (atomic): its new path, or None if another process took it first. The
    one rule by which claims and evictions exclude each other."""
    taken = path.with_name(f"{path.name}.{why}-{os.getpid()}")
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    return taken


def _kill(advert: Advert) -> None:
    """Kill a worker whose advert this process holds (its process group: the JVM too); remove its scratch."""
    if _is_worker(advert.pid):  # a dead worker's pid may be another process's by now: never kill that one
        process = ForeignProcess(advert.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(advert.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)  # gone before its scratch is removed, or its JVM writes into it again
    shutil.rmtree(advert.scratch, ignore_errors=True)


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        return b"sim.compute.worker" in command or b"sim.compute.keeper" in command
    except OSError:
        return False


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise adverts and sweeps in one directory (counting and evicting must not interleave)."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def authenticate(sock: socket.socket, authkey: bytes, *, serve: bool) -> Connection | None:
    """Mutual authentication as `multiprocessing.connection` does it (`serve`: as `Listener.accept`, else as
    `Client`); None if the other end fails it. Also a cluster's accept of its own worker (sim.compute.cluster)."""
    sock.settimeout(None)
    connection = Connection(sock.detach())
    try:
        if serve:
            deliver_challenge(connection, authkey)
            answer_challenge(connection, authkey)
        else:
            answer_challenge(connection, authkey)
            deliver_challenge(connection, authkey)
    except Exception:
        connection.close()
        return None
    return connection

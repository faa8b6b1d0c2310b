"""The options of the simulator's own Spark JVMs: tuned to start fast and to run small jobs, not long ones.

A simulator's JVM (a cluster worker's driver, a Spark Connect or standalone daemon, a test's session) lives
minutes and processes thousands of rows; most of its CPU is start-up: JIT compilation and class loading.
Measured in one process, a local SparkSession and eight 5,000-row CSV → parquet de-duplications
(docs/performance.md, "The JVM"): 28.4 CPU s with the JVM's defaults, 14.9 s with these options, 11.2 s with
the class archive as well; wall time fell with the CPU.

- `-XX:TieredStopAtLevel=1`: only C1 compiles. C2's compiler threads cost more CPU than they return in a
  short-lived JVM, and on 2 cores they take it from the work itself.
- `-XX:+UseSerialGC`: a 1 GB heap has no use for parallel collector threads.
- A class-data-sharing archive (AppCDS) of the classes a Spark session loads: mapped at start instead of
  parsed and verified one by one. Built once per JDK and Spark install, in the user's cache, by a
  background process the first time a JVM is launched without one.

`STEPBRICKS_SPARK_JVM_OPTIONS` replaces the first two (set it empty for the JVM's defaults: long jobs on big
data, where C2's faster code pays for its compile time; docs/scaling.md), and `STEPBRICKS_SPARK_CDS=0`
turns the archive off. What the cluster's spec sets in `spark.driver.extraJavaOptions` comes after these,
so it wins (the JVM takes the last of repeated options).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sim.mlflow_store import cache_dir

OPTIONS_ENV = "STEPBRICKS_SPARK_JVM_OPTIONS"
CDS_ENV = "STEPBRICKS_SPARK_CDS"
DEFAULT_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# A mismatched or unreadable archive is not an error (the JVM runs without it): it must not print one into
# a driver log either.
_QUIET_CDS = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
KEEP_ARCHIVES = 3  # one per Java and Spark install in use: a few venvs side by side
_STALE_BUILD_SECONDS = 600.0  # a build lock older than this is a builder that died
_build_started = threading.Lock()
_builder: list[threading.Thread] = []


def tuning() -> str:
    """The tuning part of the options (`STEPBRICKS_SPARK_JVM_OPTIONS`, else the default)."""
    return os.environ.get(OPTIONS_ENV, DEFAULT_OPTIONS).strip()


def options() -> str:
    """The JVM options for a simulator-launched Spark driver or daemon."""
    tuned = tuning()
    archive = class_archive()
    return " ".join(filter(None, [tuned, f"{_QUIET_CDS} -XX:SharedArchiveFile={archive}" if archive else ""]))


def class_archive(build: bool = True) -> Path | None:
    """The class archive for this JDK, Spark install and options; None while it is missing (and, unless
    `build` is False, being built in the background for the JVMs that come later)."""
    if os.environ.get(CDS_ENV, "1") == "0":
        return None
    path = archive_path()
    if path is None:
        return None
    if path.exists():
        return path
    if build:
        _build_in_background(path)
    return None


def archive_path() -> Path | None:
    """Where the archive for this JDK, Spark install and tuning lives (None: no Java or Spark found)."""
    java = shutil.which("java", path=java_path())
    spark = spark_jars()
    if java is None or spark is None:
        return None
    java = os.path.realpath(java)
    identity = hashlib.sha256()
    # The JVM refuses an archive if any jar on its class path has another size or modification time than
    # when the archive was dumped (a reinstalled venv at the same path), so both are part of its name.
    jars = sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in spark.glob("*.jar"))
    for part in (java, str(os.stat(java).st_mtime_ns), tuning(), str(spark), *jars):
        identity.update(part.encode() + b"\0")
    return cache_dir() / "jvm" / f"spark-classes-{identity.hexdigest()[:16]}.jsa"


def java_path() -> str | None:
    """Where Java's tools are looked up: `$JAVA_HOME/bin` first, as spark-class does, then PATH."""
    home = os.environ.get("JAVA_HOME")
    return os.pathsep.join(filter(None, [f"{home}/bin" if home else "", os.environ.get("PATH", "")]))


def spark_jars() -> Path | None:
    """The jars directory of the Spark the simulator runs (`SPARK_HOME`, else pyspark's own)."""
    try:
        import pyspark
    except ImportError:
        return None
    jars = Path(os.environ.get("SPARK_HOME") or Path(pyspark.__file__).parent) / "jars"
    return jars if jars.is_dir() else None


def _build_in_background(path: Path) -> None:
    """Start the builder once per process, unless one is at work already; it outlives this process if need
    be (a `stepbricks run` is short)."""
    from sim.compute import local_fs  # it builds on this module's Java and Spark lookups

    with _build_started:
        if _builder or _building(path.with_suffix(".lock")):
            return
        process = subprocess.Popen(
            [sys.executable, "-m", "sim.compute.jvm", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**local_fs.without_jar(dict(os.environ)), CDS_ENV: "0"},
        )
        _builder.append(threading.Thread(target=process.wait, name="spark-class-archive", daemon=True))
        _builder[0].start()


def _building(lock: Path) -> bool:
    """A live builder holds this lock (its pid inside, younger than a build can take)."""
    try:
        holder = int(lock.read_text() or "0")
        age = time.time() - lock.stat().st_mtime
    except (OSError, ValueError):
        return False
    if not holder:
        return age < 5  # created, its pid not written yet
    return age <= _STALE_BUILD_SECONDS and _alive(holder)


def build(path: Path, deadline: float = _STALE_BUILD_SECONDS) -> bool:
    """Build the archive at `path` unless another process is building it (its pid in a lock file beside it).

    A build still running after `deadline` seconds has its JVM killed, which ends the build: a JVM whose
    gateway never wrote its connection file (its main thread dead, its gateway thread alive) kept pyspark's
    `launch_gateway` polling for that file, and the builder and its JVM alive, for hours (seen in session 22:
    1 h 34 min, 240 MB). Other processes take such a build's lock for dead after the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_suffix(".lock")
    if lock.exists() and not _building(lock):
        lock.unlink(missing_ok=True)  # its builder died
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix="build-") as tmp:
            partial = Path(tmp) / path.name
            with _killing_after(deadline, _dump_option(partial)):
                _dump(partial, Path(tmp))
            if partial.exists() and partial.stat().st_size > 0:
                os.replace(partial, path)  # whole or not at all: a JVM never maps a half-written archive
                _prune(path.parent)
                return True
        return False
    finally:
        lock.unlink(missing_ok=True)


@contextlib.contextmanager
def _killing_after(seconds: float, marker: str) -> Iterator[None]:
    """Within the block, a timer that SIGKILLs the processes whose command line holds `marker` (the build's own
    JVM, named by its archive's path) once `seconds` have passed: what waits on that JVM then fails, and the
    build's clean-up runs. Nothing else is touched (`build` may run inside a test worker with children of its own)."""
    timer = threading.Timer(seconds, _kill_marked, args=(marker,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _kill_marked(marker: str) -> None:
    """SIGKILL every process whose command line has `marker` as one argument (Linux's /proc; elsewhere none)."""
    wanted = marker.encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if wanted in cmdline.read_bytes().split(b"\0"):
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to kill


def _dump_option(archive: Path) -> str:
    """The JVM option that makes a JVM dump its loaded classes to `archive` on exit (and names the build's JVM)."""
    return f"-XX:ArchiveClassesAtExit={archive}"


def _prune(folder: Path, keep: int = KEEP_ARCHIVES) -> None:
    """Remove all but the newest `keep` archives: each is ~190 MB, and every reinstall of Java or Spark (a CI
    image's fresh venv) makes a new one. A JVM that has one mapped keeps it; one starting on a removed path runs
    without it (`-Xshare:auto`), and the next launch builds it again."""
    archives = sorted(folder.glob("spark-classes-*.jsa"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in archives[keep:]:
        old.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dump(archive: Path, scratch: Path) -> None:
    """Run what a simulated cluster runs first (a session, CSV and parquet I/O, a shuffle, a Python UDF),
    then let the JVM exit normally: it writes the classes it loaded to `archive` on its way out."""
    from pyspark.sql import SparkSession, functions

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.local.dir", str(scratch))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions",
                f"{options()} -Djava.io.tmpdir={scratch} -Xlog:cds=off {_dump_option(archive)}")
        .getOrCreate()
    )
    csv = scratch / "in.csv"
    csv.write_text("id,name,amount\n" + "".join(f"{i},n{i % 7},{i * 1.5}\n" for i in range(200)))
    frame = spark.read.option("header", True).csv(str(csv)).dropDuplicates(["name"])
    frame.write.mode("overwrite").parquet(str(scratch / "out"))
    back = spark.read.parquet(str(scratch / "out"))
    back.groupBy("name").agg(functions.count("*")).collect()
    back.select(functions.udf(lambda v: v, "string")("name")).collect()
    spark.createDataFrame([(1, "a")], "id int, name string").write.mode("overwrite").json(str(scratch / "j"))
    gateway = spark.sparkContext._gateway
    spark.stop()
    process = getattr(gateway, "proc", None)
    if process is not None:  # the JVM exits when its stdin closes, dumping the archive first
        process.stdin.close()
        process.wait(timeout=300)


if __name__ == "__main__":
    os.environ[CDS_ENV] = "0"
    sys.exit(0 if build(Path(sys.argv[1])) else 1)

"""The simulator's Spark JVMs start tuned for short jobs, and share one class archive built in the background."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from sim.compute import jvm, worker
from sim.compute.protocol import WorkerConfig


@pytest.fixture
def no_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(jvm.CDS_ENV, "0")
    monkeypatch.delenv(jvm.OPTIONS_ENV, raising=False)


def _only_in_jvm(monkeypatch: pytest.MonkeyPatch, popen: object) -> None:
    """Replace `Popen` for sim.compute.jvm alone: patching `subprocess.Popen` itself would leak into any module
    that binds it by name while the patch holds (pyspark's java_gateway, imported by `archive_path`)."""
    monkeypatch.setattr(jvm, "subprocess", types.SimpleNamespace(Popen=popen, DEVNULL=subprocess.DEVNULL))


def test_by_default_only_c1_compiles_and_the_collector_is_serial(no_archive: None):
    assert jvm.options().split() == ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def test_the_options_variable_replaces_the_tuning_and_empty_means_the_jvms_defaults(
    no_archive: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(jvm.OPTIONS_ENV, "-XX:+UseParallelGC")
    assert jvm.options() == "-XX:+UseParallelGC"
    monkeypatch.setenv(jvm.OPTIONS_ENV, "")
    assert jvm.options() == ""


def test_a_clusters_own_java_options_come_after_the_tuning_so_they_win(no_archive: None):
    config = WorkerConfig("c-1", {"spark.master": "local[1]", "spark.driver.extraJavaOptions": "-XX:+UseG1GC"}, "/dbfs")
    conf = worker._with_jvm_options(config)
    assert conf["spark.driver.extraJavaOptions"] == "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+UseG1GC"
    assert "spark.executor.extraJavaOptions" not in conf  # local mode: the driver runs the tasks
    assert config.spark_conf["spark.driver.extraJavaOptions"] == "-XX:+UseG1GC"  # the cluster's conf is kept


def test_a_standalone_clusters_executors_are_tuned_too_and_a_connect_driver_is_not_ours(no_archive: None):
    standalone = worker._with_jvm_options(WorkerConfig("c-2", {"spark.master": "spark://127.0.0.1:7077"}, "/dbfs"))
    assert standalone["spark.executor.extraJavaOptions"] == jvm.options()
    connect = WorkerConfig("c-3", {"spark.master": "local[1]"}, "/dbfs", remote="sc://127.0.0.1:15002")
    assert worker._with_jvm_options(connect) == {"spark.master": "local[1]"}


def test_a_missing_archive_is_not_used_and_is_built_once_per_process_in_the_background(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(jvm.CDS_ENV, raising=False)
    monkeypatch.setattr(jvm, "_builder", [])
    started: list[list[str]] = []

    class Builder:
        def __init__(self, argv: list[str], **kwargs: object) -> None:
            started.append(argv)
            assert kwargs["env"][jvm.CDS_ENV] == "0"  # the builder's own JVM must not wait for an archive

        def wait(self) -> int:
            return 0

    _only_in_jvm(monkeypatch, Builder)
    first, second = jvm.options(), jvm.options()
    assert "SharedArchiveFile" not in first and first == second
    assert started == [[sys.executable, "-m", "sim.compute.jvm", str(jvm.archive_path())]]
    archive = jvm.archive_path()
    assert archive is not None and archive.is_relative_to(tmp_path)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"built")
    assert jvm.options().endswith(f"-XX:SharedArchiveFile={archive}")


def test_a_reinstalled_spark_gets_its_own_archive_even_with_jars_of_the_same_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # The JVM refuses an archive when a class-path jar's modification time differs from the dump's ("A jar
    # file is not the one used while building the shared archive file"): a venv reinstalled at the same
    # path has the same jars and sizes, but new times, so it must not be offered the old archive.
    jars = tmp_path / "spark" / "jars"
    jars.mkdir(parents=True)
    jar = jars / "slf4j-api-2.0.17.jar"
    jar.write_bytes(b"jar")
    monkeypatch.setenv("SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = jvm.archive_path()
    assert before is not None and before == jvm.archive_path()
    os.utime(jar, ns=(jar.stat().st_atime_ns, jar.stat().st_mtime_ns + 1_000_000_000))
    after = jvm.archive_path()
    assert after is not None and after != before and after.parent == before.parent


def test_a_build_keeps_only_the_newest_archives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(jvm, "_dump", lambda path, scratch: path.write_bytes(b"classes"))
    for age, name in enumerate(["d", "c", "b", "a"]):
        old = tmp_path / f"spark-classes-{name}.jsa"
        old.write_bytes(b"old")
        os.utime(old, (time.time() - 100 * (age + 1),) * 2)
    assert jvm.build(tmp_path / "spark-classes-new.jsa")
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == [f"spark-classes-{n}.jsa" for n in ["c", "d", "new"]][:jvm.KEEP_ARCHIVES]


def test_no_builder_starts_while_another_process_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(jvm.CDS_ENV, raising=False)
    monkeypatch.setattr(jvm, "_builder", [])
    _only_in_jvm(monkeypatch, lambda *a, **k: pytest.fail("started a second builder"))
    archive = jvm.archive_path()
    assert archive is not None
    archive.parent.mkdir(parents=True)
    archive.with_suffix(".lock").write_text(str(os.getpid()))  # a live process builds it
    assert jvm.class_archive() is None


def test_a_build_leaves_the_work_to_a_live_builder_and_takes_over_a_dead_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    archive = tmp_path / "spark-classes-x.jsa"
    lock = archive.with_suffix(".lock")
    monkeypatch.setattr(jvm, "_dump", lambda path, scratch: path.write_bytes(b"classes"))
    lock.write_text(str(os.getpid()))  # a live process holds it
    assert jvm.build(archive) is False and not archive.exists()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))
    assert jvm.build(archive) is True
    assert archive.read_bytes() == b"classes" and not lock.exists()
    assert [p.name for p in tmp_path.iterdir()] == [archive.name]  # the build's scratch is gone


def test_a_build_whose_jvm_never_answers_is_killed_at_its_deadline_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Seen on this machine: a builder's JVM whose gateway never wrote its connection file, and pyspark polling
    for that file for 1 h 34 min. Here `_dump` starts a stand-in JVM (named by the archive's dump option, as
    the real one is) and waits on it as pyspark's `launch_gateway` does."""
    archive = tmp_path / "spark-classes-x.jsa"
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # not the build's
    started: list[subprocess.Popen] = []

    def hanging_dump(path: Path, scratch: Path) -> None:
        jvm_ = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", jvm._dump_option(path)])
        started.append(jvm_)
        while jvm_.poll() is None:
            time.sleep(0.05)
        raise RuntimeError("Java gateway process exited before sending its port number")

    monkeypatch.setattr(jvm, "_dump", hanging_dump)
    began = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match="gateway"):
            jvm.build(archive, deadline=0.5)
        assert time.monotonic() - began < 30
        assert started[0].returncode == -9  # SIGKILL
        assert bystander.poll() is None  # only the build's own JVM is killed
        assert list(tmp_path.iterdir()) == []  # no archive, no lock, no build directory
    finally:
        bystander.kill()
        for process in started:
            process.kill()


def _real_archive(timeout: float = 900.0) -> Path:
    """The archive of this machine's JDK and Spark: waits for a background build, or builds it."""
    path = jvm.archive_path()
    assert path is not None, "no java or Spark found"
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not jvm.build(path):  # another process is building it
            assert time.monotonic() < deadline, f"{path} was not built within {timeout:g} s"
            time.sleep(2)
    return path


def _spark_submit_version(archive: Path) -> subprocess.CompletedProcess[str]:
    """`spark-submit --version`: a JVM with Spark's class path, as pyspark launches it. `-Xshare:on` makes
    a JVM that cannot map the archive fail instead of starting without it."""
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home),
           "SPARK_SUBMIT_OPTS": f"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:on -XX:SharedArchiveFile={archive}"}
    return subprocess.run([str(home / "bin" / "spark-submit"), "--version"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


@pytest.mark.spark
def test_the_built_archive_is_mapped_by_a_spark_jvm_and_a_corrupt_one_is_refused(tmp_path: Path):
    archive = _real_archive()
    mapped = _spark_submit_version(archive)
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert "version" in mapped.stdout + mapped.stderr

    corrupt = tmp_path / "corrupt.jsa"
    corrupt.write_bytes(b"\0" * 4096)
    refused = _spark_submit_version(corrupt)
    assert refused.returncode != 0
    assert "Unable to use shared archive" in refused.stdout + refused.stderr

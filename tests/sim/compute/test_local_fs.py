"""A local cluster's `file:` file system is Hadoop's, setting permissions in-process (java.nio) instead of
forking `chmod` for every file and directory it creates, with the same modes; other clusters keep Hadoop's."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from sim.compute import local_fs

needs_javac = pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK compiler (javac) on PATH")


def test_a_local_cluster_names_the_file_system_and_appends_its_jar_to_sparks_class_path(monkeypatch):
    monkeypatch.setattr(local_fs, "jar", lambda: Path("/cache/stepbricks-hadoop-1.jar"))
    monkeypatch.setenv(local_fs.CLASSPATH_ENV, "/opt/hadoop/lib.jar:/cache/stepbricks-hadoop-1.jar")

    conf, env = local_fs.launch_settings({"spark.master": "local[1]"})

    assert conf == {"spark.hadoop.fs.file.impl": "stepbricks.hadoop.NioLocalFileSystem"}
    # after the user's own entries (Spark's class archive maps only for a class path it is a prefix of), once
    assert env == {"SPARK_DIST_CLASSPATH": "/opt/hadoop/lib.jar:/cache/stepbricks-hadoop-1.jar"}


@pytest.mark.parametrize("spark_conf", [
    {"spark.master": "spark://127.0.0.1:7077"},  # executors are other JVMs, without the jar
    {"spark.master": "local[1]", "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem"},
], ids=["standalone executors", "the cluster's own file system"])
def test_other_clusters_keep_what_they_have(monkeypatch, spark_conf):
    monkeypatch.setattr(local_fs, "jar", lambda: Path("/cache/stepbricks-hadoop-1.jar"))
    assert local_fs.launch_settings(spark_conf) == ({}, {})


def test_it_can_be_turned_off_and_is_off_without_a_jar(monkeypatch):
    monkeypatch.setattr(local_fs, "jar", lambda: Path("/cache/stepbricks-hadoop-1.jar"))
    monkeypatch.setenv(local_fs.DISABLE_ENV, "0")
    assert local_fs.launch_settings({"spark.master": "local[1]"}) == ({}, {})
    monkeypatch.delenv(local_fs.DISABLE_ENV)
    monkeypatch.setattr(local_fs, "jar", lambda: None)  # no javac, or the build failed
    assert local_fs.launch_settings({"spark.master": "local[1]"}) == ({}, {})


def test_the_class_archive_is_dumped_without_the_jar_so_every_cluster_extends_its_class_path():
    env = {"PATH": "/bin", "SPARK_DIST_CLASSPATH": "/opt/a.jar:/cache/jvm/stepbricks-hadoop-0123.jar"}
    assert local_fs.without_jar(env) == {"PATH": "/bin", "SPARK_DIST_CLASSPATH": "/opt/a.jar"}
    assert local_fs.without_jar({"SPARK_DIST_CLASSPATH": "/cache/jvm/stepbricks-hadoop-0123.jar"}) == {}


@needs_javac
def test_the_jar_is_compiled_once_into_the_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(local_fs, "cache_dir", lambda: tmp_path)
    built = local_fs.jar()
    assert built is not None and built.parent == tmp_path / "jvm"
    with zipfile.ZipFile(built) as archive:
        assert sorted(archive.namelist()) == [
            "stepbricks/hadoop/NioLocalFileSystem$Raw.class", "stepbricks/hadoop/NioLocalFileSystem.class"]
        major = int.from_bytes(archive.read("stepbricks/hadoop/NioLocalFileSystem.class")[6:8], "big")
    assert major == 52  # Java 8 bytecode: any JVM that runs Spark loads it
    stamp = built.stat().st_mtime_ns
    assert local_fs.jar() == built and built.stat().st_mtime_ns == stamp  # found, not built again
    assert [p.name for p in (tmp_path / "jvm").iterdir()] == [built.name]  # no build directory left


@needs_javac
@pytest.mark.spark
def test_a_local_cluster_writes_through_the_in_process_file_system_with_hadoops_modes(run, notebook, tmp_path):
    out = tmp_path / "written"
    path = notebook(
        "import json, os\n"
        "jvm = spark.sparkContext._jvm\n"
        "fs = jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI('file:///'), spark._jsc.hadoopConfiguration())\n"
        f"spark.range(3).write.parquet({str(out)!r})\n"
        "def chmod(name, mode):\n"
        f"    target = os.path.join({str(tmp_path)!r}, name)\n"
        "    open(target, 'a').close() if '.' in name else os.makedirs(target, exist_ok=True)\n"
        "    fs.setPermission(jvm.org.apache.hadoop.fs.Path(target), jvm.org.apache.hadoop.fs.permission.FsPermission(mode))\n"
        "chmod('private.txt', 0o600); chmod('shared', 0o750); chmod('sticky', 0o1777)\n"
        "dbutils.notebook.exit(json.dumps({'fs': fs.getClass().getName(), 'raw': fs.getRawFileSystem().getClass().getName()}))\n"
    )
    result = run(kind="notebook", source_path=path)
    assert (result.outcome, result.error) == ("SUCCESS", None)

    assert json.loads(result.notebook_result) == {
        "fs": "stepbricks.hadoop.NioLocalFileSystem", "raw": "stepbricks.hadoop.NioLocalFileSystem$Raw"}
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [out, *out.iterdir()]}
    assert modes["written"] == 0o755 and modes["_SUCCESS"] == 0o644  # Hadoop's defaults under its 022 umask
    assert {mode for name, mode in modes.items() if name.endswith(".parquet")} == {0o644}
    assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "sticky").stat().st_mode) == 0o1777  # java.nio cannot: Hadoop's chmod does
    assert os.access(out, os.R_OK | os.X_OK)

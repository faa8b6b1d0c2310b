"""The local clusters' `file:` file system: Hadoop's own, without a `chmod` process per file.

Without Hadoop's native library (pyspark's wheel ships none) `RawLocalFileSystem.setPermission` forks
`chmod`, and it is called for every directory Hadoop makes and every file it creates: a 1,000-row flight's
staged writes spawned ~28 such processes, each ~6 ms of the driver's CPU and of the writing task's wall
(`docs/performance.md`, "Session 20"), and a JVM caught between spawn and exec shows its whole resident set
twice to a memory sampler. `java/NioLocalFileSystem.java` overrides that one method with java.nio, which
sets the same bits in-process. It is compiled once per machine and Hadoop version into the user cache (a
JDK's `javac`, for Java 8 bytecode, so any JVM that runs Spark can load it) and named only for clusters
whose driver is their only JVM (`local[...]`): a standalone cluster's executors would not have it on their
class path. Where there is no `javac`, or the build fails, clusters run with Hadoop's default.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from sim.compute import jvm
from sim.mlflow_store import cache_dir

SOURCE = Path(__file__).with_name("java") / "NioLocalFileSystem.java"
CLASS_NAME = "stepbricks.hadoop.NioLocalFileSystem"
IMPL_KEY = "spark.hadoop.fs.file.impl"
CLASSPATH_ENV = "SPARK_DIST_CLASSPATH"  # appended after Spark's jars by spark-class: the class archive still maps
DISABLE_ENV = "STEPBRICKS_NIO_LOCAL_FS"  # "0": Hadoop's default (chmod per file)


def launch_settings(spark_conf: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(conf, environment) to add when starting a driver with `spark_conf`: empty unless its master is
    local, the cluster did not name a `file:` implementation of its own, and the jar is there or builds."""
    master = spark_conf.get("spark.master", "local[*]")
    if not master.startswith("local") or IMPL_KEY in spark_conf or os.environ.get(DISABLE_ENV) == "0":
        return {}, {}
    built = jar()
    if built is None:
        return {}, {}
    entries = [e for e in os.environ.get(CLASSPATH_ENV, "").split(os.pathsep) if e and e != str(built)]
    return {IMPL_KEY: CLASS_NAME}, {CLASSPATH_ENV: os.pathsep.join([*entries, str(built)])}


def without_jar(env: dict[str, str]) -> dict[str, str]:
    """`env` with this module's jar taken off `SPARK_DIST_CLASSPATH`: for the JVM that dumps the class
    archive, whose class path a JVM must extend (appending is allowed) but not shorten to map it."""
    entries = [e for e in env.get(CLASSPATH_ENV, "").split(os.pathsep) if e and not _is_ours(e)]
    trimmed = {k: v for k, v in env.items() if k != CLASSPATH_ENV}
    return {**trimmed, CLASSPATH_ENV: os.pathsep.join(entries)} if entries else trimmed


def _is_ours(entry: str) -> bool:
    name = Path(entry).name
    return name.startswith("stepbricks-hadoop-") and name.endswith(".jar")


def jar() -> Path | None:
    """The compiled jar, built now if missing (~2 s, once); None without `javac`, Spark's jars or on failure."""
    hadoop = _hadoop_api_jars()
    javac = shutil.which("javac", path=jvm.java_path())
    if not hadoop or javac is None:
        return None
    identity = hashlib.sha256(SOURCE.read_bytes())
    for part in sorted(f"{p.name}:{p.stat().st_size}" for p in hadoop):
        identity.update(part.encode() + b"\0")
    path = cache_dir() / "jvm" / f"stepbricks-hadoop-{identity.hexdigest()[:16]}.jar"
    if path.exists():
        return path
    return path if _build(javac, hadoop, path) else None


def _build(javac: str, hadoop: list[Path], path: Path) -> bool:
    """Compile and zip into a temporary name beside `path`, then rename: whole or absent, and two workers
    building at once each rename an identical jar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix="build-") as tmp:
        classes = Path(tmp) / "classes"
        result = subprocess.run(
            [javac, "--release", "8", "-nowarn", "-Xlint:-options", "-d", str(classes),
             "-cp", os.pathsep.join(map(str, hadoop)), str(SOURCE)],
            capture_output=True, text=True, check=False, timeout=120,
        )
        if result.returncode != 0:
            return False
        partial = Path(tmp) / path.name
        with zipfile.ZipFile(partial, "w") as archive:
            for compiled in sorted(classes.rglob("*.class")):
                archive.write(compiled, compiled.relative_to(classes).as_posix())
        os.replace(partial, path)
    return True


def _hadoop_api_jars() -> list[Path]:
    jars = jvm.spark_jars()
    return sorted(jars.glob("hadoop-client-api-*.jar")) if jars is not None else []

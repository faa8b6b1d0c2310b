"""dbutils.fs on local disk with Databricks' path rules (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.compute.dbutils.fs import Fs


@pytest.fixture
def fs(tmp_path: Path) -> Fs:
    return Fs(tmp_path / "dbfs")


def test_a_path_without_scheme_is_a_dbfs_path(fs: Fs, tmp_path: Path):
    fs.put("/tmp/a.txt", "hello")
    assert (tmp_path / "dbfs" / "tmp" / "a.txt").read_text() == "hello"
    assert fs.head("dbfs:/tmp/a.txt") == "hello"


def test_ls_lists_files_and_directories_like_databricks(fs: Fs):
    fs.put("dbfs:/data/x.csv", "a,b\n")
    fs.mkdirs("dbfs:/data/sub")
    listing = fs.ls("dbfs:/data")
    assert [(f.path, f.name, f.size) for f in listing] == [
        ("dbfs:/data/sub/", "sub/", 0),
        ("dbfs:/data/x.csv", "x.csv", 4),
    ]


def test_put_refuses_to_overwrite_unless_asked(fs: Fs):
    fs.put("/f", "1")
    with pytest.raises(FileExistsError, match="/f"):
        fs.put("/f", "2")
    fs.put("/f", "2", overwrite=True)
    assert fs.head("/f") == "2"


def test_cp_mv_rm_between_dbfs_and_local_files(fs: Fs, tmp_path: Path):
    local = tmp_path / "local.txt"
    local.write_text("data")
    fs.cp(f"file:{local}", "dbfs:/copied.txt")
    fs.mv("dbfs:/copied.txt", "dbfs:/moved.txt")
    assert fs.head("/moved.txt") == "data"
    assert fs.rm("/moved.txt") is True
    assert fs.rm("/moved.txt") is False


def test_missing_file_and_escaping_dbfs_are_errors(fs: Fs):
    with pytest.raises(FileNotFoundError, match=r"File dbfs:/nope does not exist\."):
        fs.ls("dbfs:/nope")
    with pytest.raises(ValueError, match="outside dbfs"):
        fs.put("dbfs:/../escape", "x")

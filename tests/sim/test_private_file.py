"""A file another process polls for is whole or absent, and only its owner can read it."""

from __future__ import annotations

import os

import pytest

from sim import private_file
from sim.private_file import write_private


def test_the_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "endpoints.json"
    write_private(path, '{"env": {}}')
    assert path.read_text() == '{"env": {}}'
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_poller_never_sees_it_before_it_is_whole(tmp_path, monkeypatch):
    """The race a CI run hit: `up`'s endpoints file existed, empty, while `up` was still writing it."""
    path = tmp_path / "endpoints.json"
    seen_while_writing: list[bool] = []
    real_fdopen = os.fdopen

    class Spy:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

        def write(self, text):
            seen_while_writing.append(path.exists())
            return self.handle.write(text)

    monkeypatch.setattr(private_file.os, "fdopen", lambda fd, mode: Spy(real_fdopen(fd, mode)))
    write_private(path, "whole")
    assert seen_while_writing == [False]
    assert path.read_text() == "whole"


def test_a_failed_write_leaves_the_previous_file_and_no_partial(tmp_path, monkeypatch):
    path = tmp_path / "endpoints.json"
    write_private(path, "first")

    def crash(*_):
        raise OSError("disk full")

    monkeypatch.setattr(private_file.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_private(path, "second")
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["endpoints.json"]

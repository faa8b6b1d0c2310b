"""ml.storage.LocalOrS3Store: the same three operations on the moto S3 and on local paths."""

from __future__ import annotations

import pytest
from conftest import BUCKETS

from ml.storage import LocalOrS3Store, join_uri


@pytest.fixture(params=["s3", "local"])
def root(request, tmp_path) -> str:
    if request.param == "s3":
        request.getfixturevalue("ml_stack")
        return f"s3://{BUCKETS['results']}/storage-test"
    return str(tmp_path / "storage-test")


def test_what_is_put_is_listed_recursively_and_read_back(root):
    store = LocalOrS3Store()
    store.put_bytes(join_uri(root, "a", "x.json"), b"1")
    store.put_bytes(join_uri(root, "a", "b", "y.json"), b"22")
    assert store.list(root) == [join_uri(root, "a", "b", "y.json"), join_uri(root, "a", "x.json")]
    assert store.get_bytes(join_uri(root, "a", "b", "y.json")) == b"22"


def test_a_missing_object_reads_as_none_and_an_empty_prefix_lists_nothing(root):
    store = LocalOrS3Store()
    assert store.get_bytes(join_uri(root, "nothing-here")) is None
    assert store.list(join_uri(root, "no-such-prefix")) == []


def test_an_s3_uri_without_a_bucket_is_refused():
    with pytest.raises(ValueError, match="has no bucket"):
        LocalOrS3Store().get_bytes("s3:///key")

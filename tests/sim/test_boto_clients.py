"""Clients on sessions of their own that share botocore's parsed data files (sim/boto_clients.py)."""

from __future__ import annotations

from sim import boto_clients


def test_sessions_share_one_loader_whose_search_paths_do_not_grow_with_each_session():
    first, second = boto_clients.session(), boto_clients.session()
    loader = first._session.get_component("data_loader")
    assert second._session.get_component("data_loader") is loader
    paths = list(loader.search_paths)
    boto_clients.session()
    assert loader.search_paths == paths and len(set(paths)) == len(paths)  # boto3 appends its data dir each time


def test_each_client_keeps_its_own_credentials_and_region():
    a = boto_clients.client("s3", region_name="eu-west-1", aws_access_key_id="AKIDA", aws_secret_access_key="a")
    b = boto_clients.client("s3", region_name="us-east-1", aws_access_key_id="AKIDB", aws_secret_access_key="b")
    assert (a.meta.region_name, b.meta.region_name) == ("eu-west-1", "us-east-1")
    assert (a._request_signer._credentials.access_key, b._request_signer._credentials.access_key) == ("AKIDA", "AKIDB")

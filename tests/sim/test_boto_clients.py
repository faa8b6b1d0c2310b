"""Clients on sessions that share botocore's parsed data files (sim/boto_clients.py)."""

from __future__ import annotations

import threading

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


def test_a_thread_reuses_its_session_for_the_same_credentials_and_region_only():
    a1 = boto_clients.client("s3", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="a")
    a2 = boto_clients.client("sqs", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="a")
    b = boto_clients.client("s3", region_name="us-east-1", aws_access_key_id="B", aws_secret_access_key="b")
    sessions = boto_clients._threads.sessions
    assert sessions[("us-east-1", "A", "a", None)] is not sessions[("us-east-1", "B", "b", None)]
    assert a1 is not a2 and b._request_signer._credentials.access_key == "B"
    assert a2._request_signer._credentials.access_key == "A"

    seen: list[object] = []
    other = threading.Thread(target=lambda: (boto_clients.client("s3", region_name="us-east-1", aws_access_key_id="A",
                                                                  aws_secret_access_key="a"),
                                             seen.append(boto_clients._threads.sessions)))  # fmt: skip
    other.start()
    other.join()
    assert seen and seen[0] is not sessions  # another thread, sessions of its own


def test_the_sessions_a_thread_keeps_are_bounded():
    for n in range(boto_clients._SESSIONS_PER_THREAD + 5):
        boto_clients.client("s3", region_name="us-east-1", aws_access_key_id=f"K{n}", aws_secret_access_key="s")
    assert len(boto_clients._threads.sessions) == boto_clients._SESSIONS_PER_THREAD

"""boto3 clients whose sessions share botocore's parsed data files.

Every new botocore session parses botocore's endpoint rules and each service's model again (JSON files of
up to megabytes): 64 ms of CPU per client, against 8 ms with a shared loader (measured in one process, a
Step Functions client, 20 each). The simulator, its CLI and the test processes build clients per
simulator, per command and per fixture; in the suite's profile client creation was a third of the test
processes' CPU (docs/performance.md, "Clients"). The loader only reads botocore's and boto3's installed data,
the same for every simulator and credential, so one per process is shared. Sessions are reused within a
thread for the same region and credentials (boto3 recommends a session per thread, not per client): a client
from a reused session costs 1.7 ms, from a new one 7.6 ms.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import boto3
import botocore.loaders
import botocore.session

_lock = threading.Lock()
_loader: list[botocore.loaders.Loader] = []
_SESSIONS_PER_THREAD = 16  # credentials vary (a role's session per execution): the oldest go first
_threads = threading.local()


class _Paths(list):
    """Search paths that ignore a path added twice: every boto3 session appends its data directory."""

    def append(self, path: object) -> None:
        if path not in self:
            super().append(path)


def shared_loader() -> botocore.loaders.Loader:
    """The process's one loader of botocore's data (moto's own session reads it too: moto_seams.botocore_data)."""
    with _lock:
        if not _loader:
            _loader.append(botocore.loaders.Loader(extra_search_paths=_Paths()))
        return _loader[0]


def session(**kwargs: Any) -> boto3.session.Session:
    """A new boto3 session (credentials, region: boto3's keywords) reading the process's shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", shared_loader())
    return boto3.session.Session(botocore_session=core, **kwargs)


def client(service: str, *, region_name: str | None = None, aws_access_key_id: str | None = None,
           aws_secret_access_key: str | None = None, aws_session_token: str | None = None, **kwargs: Any) -> Any:
    """`boto3.client`, on this thread's session for these credentials and region (sharing the data files)."""
    key = (region_name, aws_access_key_id, aws_secret_access_key, aws_session_token)
    sessions: OrderedDict[tuple, boto3.session.Session] | None = getattr(_threads, "sessions", None)
    if sessions is None:
        sessions = _threads.sessions = OrderedDict()
    found = sessions.get(key)
    if found is None:
        found = sessions[key] = session(region_name=region_name, aws_access_key_id=aws_access_key_id,
                                        aws_secret_access_key=aws_secret_access_key,
                                        aws_session_token=aws_session_token)  # fmt: skip
        while len(sessions) > _SESSIONS_PER_THREAD:
            sessions.popitem(last=False)
    else:
        sessions.move_to_end(key)
    return found.client(service, **kwargs)

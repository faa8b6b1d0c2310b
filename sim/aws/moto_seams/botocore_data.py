"""moto reads botocore's data files once a process: its region lists through the clients' shared loader, its
service models through one loader of its own (they carry moto's extras).

moto lists each service's regions from a `boto3.Session()` of its own (`AccountSpecificBackend.get_session`):
the first backend a process makes parsed botocore's endpoint rules (~1 MB of JSON) again, 0.12 s of CPU,
although the simulator's clients in the same process read them through `sim.boto_clients`' loader. `stepbricks
up` paid it inside its first request (the workspace token's Secrets Manager call), and so did every test worker
and `stepbricks run`. moto also reads each service's model through a new loader per call
(`moto.core.utils._load_service_model`), and a new loader walks botocore's 400-odd service directories before
it loads anything (`Loader.list_available_services`, ~20 ms). Registered with `core.register` at import.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.core import loaders as moto_loaders
from moto.core import utils as moto_core_utils
from moto.core.base_backend import AccountSpecificBackend

from sim import boto_clients
from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []


@functools.cache
def _get_session(cls: type[AccountSpecificBackend]) -> Any:
    """Replaces the class method `AccountSpecificBackend.get_session` (cached, as moto's is).

    Restores nothing AWS does: the same regions, read from the same botocore data, through the loader the
    process's boto3 clients share (`sim.boto_clients`), so endpoints.json is parsed once per process, not twice.
    """
    return boto_clients.session()


@functools.cache
def _moto_loader() -> moto_loaders.Loader:
    return moto_loaders.create_loader()


def _load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
    """Replaces `moto.core.utils._load_service_model` (behind moto's cached `get_service_model` and
    `get_pagination_model`, which shape every response and paginate every list).

    Restores nothing AWS does: the same models with moto's extras (`*.moto-extras.json`: the error shapes
    moto adds, such as SQS's `AWS.SimpleQueueService.NonExistentQueue`), read through one moto loader per
    process, whose directory listing is made once, instead of a new loader per call (moto's). Not the
    clients' loader: their models must stay botocore's own.
    """
    return _moto_loader().load_service_model(service_name, model_name)


register(
    [(AccountSpecificBackend, "get_session", classmethod(_get_session)),
     (moto_core_utils, "_load_service_model", _load_service_model)],
    [Seam(AccountSpecificBackend, "get_session", ("cls",), _get_session.__doc__ or "",
          proved_by="tests/sim/aws/test_botocore_data.py::test_moto_lists_regions_through_the_processs_shared_botocore_loader"),
     Seam(moto_core_utils, "_load_service_model", ("service_name", "model_name"), _load_service_model.__doc__ or "",
          proved_by="tests/sim/aws/test_botocore_data.py::test_moto_reads_service_models_through_one_loader_a_process_with_its_own_extras")],
)

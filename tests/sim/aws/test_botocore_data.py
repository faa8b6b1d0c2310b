"""moto and the simulator's boto3 clients read botocore's data files through one loader per process.

moto listed each service's regions from a `boto3.Session()` of its own, so a process serving its first request
parsed botocore's endpoint rules a second time (0.12 s of CPU; docs/performance.md, "Session 22").
"""

from __future__ import annotations

from moto.core import utils as moto_core_utils
from moto.core.base_backend import AccountSpecificBackend

from sim import boto_clients


def test_moto_lists_regions_through_the_processs_shared_botocore_loader(aws):
    moto_session = AccountSpecificBackend.get_session()
    assert moto_session._session.get_component("data_loader") is boto_clients.shared_loader()


def test_moto_reads_service_models_through_one_loader_a_process_with_its_own_extras(aws):
    # One moto loader a process: the directories walked once, each model parsed once ...
    sqs = moto_core_utils._load_service_model("sqs", "service-2")
    assert moto_core_utils._load_service_model("sqs", "service-2") is sqs
    assert moto_core_utils._load_service_model("s3", "paginators-1")["pagination"]["ListObjectsV2"]
    # ... with moto's extras on botocore's model (SQS's legacy error code), and the clients' models left as
    # botocore ships them.
    assert sqs["shapes"]["QueueDoesNotExist"]["error"]["code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "error" not in boto_clients.shared_loader().load_service_model("sqs", "service-2")["shapes"]["QueueDoesNotExist"]


def test_moto_still_serves_every_region_botocore_lists(aws):
    for region in ("eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"):
        sm = aws.client("secretsmanager", region_name=region)
        arn = sm.create_secret(Name=f"regions/{region}", SecretString="x")["ARN"]
        assert arn.split(":")[3] == region

"""cluster_log_conf: the driver log lands at `<destination>/<cluster_id>/driver/stdout` in DBFS when the
driver stops, as Databricks delivers it, whichever backend ran the cluster."""

from __future__ import annotations

import pytest

from sim.compute import log_delivery
from sim.compute.cluster import LocalCluster

LOGS = {"cluster_log_conf": {"dbfs": {"destination": "dbfs:/cluster-logs"}}}


def test_the_driver_log_is_copied_under_the_destination(tmp_path):
    log = tmp_path / "driver.log"
    log.write_text("[stepbricks] SparkSession 4.3.0 created\n")

    delivered = log_delivery.deliver(LOGS, "c-1", log, tmp_path / "dbfs")

    assert delivered == tmp_path / "dbfs" / "cluster-logs" / "c-1" / "driver" / "stdout"
    assert delivered.read_text() == log.read_text()
    assert log_delivery.deliver({}, "c-1", log, tmp_path / "dbfs") is None  # no cluster_log_conf: nothing


def test_destinations_other_than_dbfs_are_reported_not_ignored():
    spec = {"cluster_log_conf": {"s3": {"destination": "s3://logs/clusters", "region": "us-east-1"}}}
    assert log_delivery.unhonoured(spec) == ["cluster_log_conf s3: driver logs are delivered to dbfs:/ destinations only"]
    assert log_delivery.unhonoured(LOGS) == []


@pytest.mark.spark
def test_a_terminated_cluster_delivers_its_driver_log(tmp_path):
    cluster = LocalCluster("0101-000000-logs0001", LOGS, state_dir=tmp_path, base_env={})
    try:
        assert cluster.wait_until_running(timeout=600), cluster.state_message
    finally:
        cluster.terminate()

    delivered = tmp_path / "dbfs" / "cluster-logs" / cluster.cluster_id / "driver" / "stdout"
    assert f"(cluster {cluster.cluster_id}, master local[1], executors 0, pid" in delivered.read_text()
    assert cluster.state == "TERMINATED"

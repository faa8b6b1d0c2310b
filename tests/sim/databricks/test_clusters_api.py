"""Clusters API: a cluster's events read as on Databricks (databricks-sdk `clusters.events`), and a spec
naming a Spark backend the workspace does not know is refused at create, not at first run."""

from __future__ import annotations

import time

import pytest
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.compute import EventType, GetEventsOrder

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _default_cluster_running(client) -> str:
    cluster_id = next(iter(client.clusters.list())).cluster_id
    client.clusters.start(cluster_id)
    deadline = time.monotonic() + 300
    while client.clusters.get(cluster_id).state.value != "RUNNING":
        assert time.monotonic() < deadline, client.clusters.get(cluster_id).state_message
        time.sleep(0.5)
    return cluster_id


def test_a_started_cluster_reports_creating_starting_running_with_its_backend(client):
    cluster_id = _default_cluster_running(client)

    events = list(client.clusters.events(cluster_id, order=GetEventsOrder.ASC))

    assert [e.type for e in events[:3]] == [EventType.CREATING, EventType.STARTING, EventType.RUNNING]
    assert events[1].details.driver_state_message == "local backend (local[1])"  # nothing it cannot honour
    assert events[2].details.current_num_workers == 0  # local mode: the driver runs the tasks itself
    assert all(e.cluster_id == cluster_id for e in events)
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)


def test_events_page_newest_first_and_filter_by_type(client):
    cluster_id = _default_cluster_running(client)
    everything = list(client.clusters.events(cluster_id, order=GetEventsOrder.ASC))

    paged = list(client.clusters.events(cluster_id, limit=1))  # the SDK follows next_page

    assert [e.as_dict() for e in paged] == [e.as_dict() for e in reversed(everything)]
    running = list(client.clusters.events(cluster_id, event_types=[EventType.RUNNING]))
    assert running and {e.type for e in running} == {EventType.RUNNING}


def test_a_spark_conf_naming_an_unknown_backend_is_refused_at_create(client):
    with pytest.raises(InvalidParameterValue, match="unknown Spark URL 'yarn'"):
        client.clusters.create(spark_version="15.4.x-scala2.12", cluster_name="on-yarn",
                               spark_conf={"spark.stepbricks.backend": "yarn"})


def test_events_of_an_unknown_cluster_are_refused(client):
    with pytest.raises(InvalidParameterValue, match="Cluster 0000-000000-nothere does not exist"):
        list(client.clusters.events("0000-000000-nothere"))

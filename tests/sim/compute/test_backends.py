"""Which backend runs a cluster, and what each makes of a Databricks cluster spec (no Spark started here).

The engines themselves are flown in tests/e2e/test_cluster_backends.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.compute.backends import BackendError, backend_for, parse
from sim.compute.cluster import DEFAULT_SPARK_CONF

LOCAL_CONF = {**DEFAULT_SPARK_CONF, "spark.local.dir": "/scratch/c1", "spark.app.name": "stepbricks-c1"}


@pytest.mark.parametrize(
    ("url", "name", "kept"),
    [
        (None, "local", "local[1]"),
        ("local", "local", "local[1]"),
        ("local[2]", "local", "local[2]"),
        ("spark://127.0.0.1:7077", "standalone", "spark://127.0.0.1:7077"),
        ("spark://m1:7077,m2:7077", "standalone", "spark://m1:7077,m2:7077"),
        ("sc://127.0.0.1:15002", "connect", "sc://127.0.0.1:15002"),
        ("sc://spark.example.com:15002/;use_ssl=true", "connect", "sc://spark.example.com:15002/;use_ssl=true"),
    ],
)
def test_a_spark_url_names_its_backend(url, name, kept):
    backend = parse(url)
    assert (backend.name, backend.url) == (name, kept)


@pytest.mark.parametrize("url", ["yarn", "spark://", "spark://host", "sc://", "http://127.0.0.1:7077", "local[x]"])
def test_an_unknown_url_is_refused_with_what_is_accepted(url):
    with pytest.raises(BackendError, match="expected local, local\\[N\\], spark://host:port"):
        parse(url)


def test_a_cluster_spark_conf_overrides_the_workspace_backend():
    workspace = parse("spark://127.0.0.1:7077")
    assert backend_for({}, workspace) is workspace
    assert backend_for({"spark_conf": {"spark.stepbricks.backend": "local"}}, workspace).name == "local"
    assert backend_for({"spark_conf": {"spark.master": "local[2]"}}, workspace).url == "local[2]"
    single_node = {"spark.master": "local[*, 4]", "spark.databricks.cluster.profile": "singleNode"}
    assert backend_for({"spark_conf": single_node}, workspace).url == "local[*, 4]"  # a Databricks single node
    assert backend_for({"spark_conf": {"spark.remote": "sc://10.0.0.5:15002"}}, workspace).name == "connect"
    assert backend_for({"spark_conf": {"spark.stepbricks.backend": "sc://h:1"}}, parse("local")).url == "sc://h:1"
    shared = backend_for({"spark_conf": {"spark.stepbricks.sharedDir": "/mnt/shared"}}, workspace)
    assert (shared.name, shared.shared_dir) == ("standalone", Path("/mnt/shared"))


def test_local_reports_cluster_sizes_it_cannot_give_and_keeps_the_env():
    plan = parse("local").plan({"num_workers": 4, "spark_env_vars": {"A": "1"}}, dict(LOCAL_CONF), cluster_id="c1")
    assert plan.spark_conf["spark.master"] == "local[1]" and plan.remote is None
    assert plan.target_workers == 4
    assert plan.unhonoured == ["num_workers=4: the local backend runs the whole cluster in one local[1] process"]
    assert parse("local").plan({"num_workers": 0}, dict(LOCAL_CONF), cluster_id="c1").unhonoured == []


def test_standalone_maps_workers_to_executors_and_env_vars_to_executor_env():
    spec = {"num_workers": 2, "spark_env_vars": {"REGION": "eu"}, "spark_conf": {"spark.sql.shuffle.partitions": "4"}}
    conf = {**LOCAL_CONF, "spark.sql.shuffle.partitions": "4"}
    plan = parse("spark://127.0.0.1:7077").plan(spec, conf, cluster_id="c1")
    assert plan.spark_conf["spark.master"] == "spark://127.0.0.1:7077"
    assert (plan.spark_conf["spark.executor.cores"], plan.spark_conf["spark.cores.max"]) == ("1", "2")
    assert plan.spark_conf["spark.executorEnv.REGION"] == "eu"
    assert plan.spark_conf["spark.sql.shuffle.partitions"] == "4"
    assert "spark.local.dir" not in plan.spark_conf  # executors keep their own worker's scratch
    assert plan.spark_conf["spark.driver.host"] == "127.0.0.1"  # a loopback master: the driver stays there
    assert plan.unhonoured == [] and plan.staging_dir is None and plan.target_workers == 2


def test_standalone_autoscale_is_dynamic_allocation():
    plan = parse("spark://127.0.0.1:7077").plan({"autoscale": {"min_workers": 1, "max_workers": 3}},
                                                dict(LOCAL_CONF), cluster_id="c1")
    conf = plan.spark_conf
    assert conf["spark.dynamicAllocation.enabled"] == "true"
    assert conf["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
    assert (conf["spark.dynamicAllocation.minExecutors"], conf["spark.dynamicAllocation.maxExecutors"]) == ("1", "3")
    assert plan.unhonoured == []


def test_a_remote_standalone_master_needs_a_shared_directory_or_says_so(tmp_path):
    remote = parse("spark://10.1.2.3:7077").plan({"num_workers": 1}, dict(LOCAL_CONF), cluster_id="c1")
    assert "spark.driver.host" not in remote.spark_conf  # executors on 10.1.2.3 must reach the driver
    assert remote.env["SPARK_LOCAL_IP"] is None
    assert any("no shared directory" in note and "10.1.2.3" in note for note in remote.unhonoured)
    shared = parse("spark://10.1.2.3:7077", shared_dir=tmp_path).plan({}, dict(LOCAL_CONF), cluster_id="c1")
    assert shared.staging_dir == tmp_path / "c1"
    assert shared.env["STEPBRICKS_STAGING_DIR"] == str(tmp_path / "c1")
    assert not any("no shared directory" in note for note in shared.unhonoured)


def test_connect_sets_only_session_conf_and_reports_what_the_server_decides():
    spec = {"num_workers": 3, "spark_env_vars": {"REGION": "eu"},
            "spark_conf": {"spark.master": "local[4]", "spark.sql.ansi.enabled": "true", "spark.stepbricks.x": "1"}}
    plan = parse("sc://127.0.0.1:15002").plan(spec, dict(LOCAL_CONF), cluster_id="c1")
    assert plan.remote == "sc://127.0.0.1:15002"
    assert plan.spark_conf == {"spark.sql.shuffle.partitions": "2", "spark.sql.session.timeZone": "UTC",
                               "spark.sql.ansi.enabled": "true"}
    assert plan.env["SPARK_REMOTE"] == "sc://127.0.0.1:15002"
    notes = " | ".join(plan.unhonoured)
    for expected in ("spark_conf spark.master", "num_workers=3", "spark_env_vars REGION", "no SparkContext"):
        assert expected in notes

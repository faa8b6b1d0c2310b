"""Reading `databricks.yml` as the Databricks CLI does: includes, targets, variables, paths, modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bundles import BundleError, load_bundle
from harness.bundles.model import LocalFile
from tests.harness.bundles.bundle_factory import MINIMAL, write_bundle

ENV: dict[str, str] = {}


def test_default_target_is_the_one_marked_default(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), environ=ENV, user="ada@example.com")
    assert bundle.target.name == "dev"
    assert set(bundle.jobs) == {"hello", "after"}


def test_variable_precedence_is_flag_then_environment_then_target_then_default(tmp_path: Path) -> None:
    root = write_bundle(tmp_path, MINIMAL)
    assert load_bundle(root, target="dev", environ=ENV).variables["greeting"] == "hello"
    assert load_bundle(root, target="qa", environ=ENV).variables["greeting"] == "hello-qa"
    env = {"BUNDLE_VAR_greeting": "from-env"}
    assert load_bundle(root, target="qa", environ=env).variables["greeting"] == "from-env"
    flagged = load_bundle(root, target="qa", environ=env, variables={"greeting": "from-flag"})
    assert flagged.variables["greeting"] == "from-flag"
    assert flagged.jobs["hello"].settings["parameters"] == [{"name": "greeting", "default": "from-flag"}]


def test_bundle_target_and_name_are_substituted(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), target="prod", environ=ENV)
    assert bundle.jobs["hello"].settings["name"] == "demo-hello-prod"
    assert bundle.root_path == "/Workspace/Shared/.bundle/demo/prod"


def test_development_mode_prefixes_names_and_pauses_schedules(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), target="dev", environ=ENV, user="ada@example.com")
    hello = bundle.jobs["hello"].settings
    assert hello["name"] == "[dev ada] demo-hello-dev"
    assert hello["schedule"]["pause_status"] == "PAUSED"
    assert hello["tags"]["dev"] == "ada"
    assert bundle.root_path == "/Workspace/Users/ada@example.com/.bundle/demo/dev"


def test_production_mode_keeps_names_and_schedules(tmp_path: Path) -> None:
    hello = load_bundle(write_bundle(tmp_path, MINIMAL), target="prod", environ=ENV).jobs["hello"].settings
    assert hello["name"] == "demo-hello-prod"
    assert "pause_status" not in hello["schedule"]


def test_notebook_paths_are_relative_to_the_declaring_file(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), target="prod", environ=ENV)
    path = bundle.jobs["hello"].settings["tasks"][0]["notebook_task"]["notebook_path"]
    assert isinstance(path, LocalFile)
    assert path.path == (tmp_path / "src" / "hello.py").resolve()
    assert path.remote(bundle.file_path) == "/Workspace/Shared/.bundle/demo/prod/files/src/hello"


def test_job_id_references_wait_for_deploy(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), environ=ENV)
    assert bundle.jobs["after"].settings["tasks"][0]["run_job_task"]["job_id"] == "${resources.jobs.hello.id}"
    assert bundle.jobs["after"].job_refs() == {"hello"}


def test_target_overrides_merge_tasks_by_key(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["databricks.yml"] = MINIMAL["databricks.yml"] + """
          staging:
            resources:
              jobs:
                hello:
                  tasks:
                    - task_key: hello
                      timeout_seconds: 60
        """
    root = write_bundle(tmp_path, files)
    task = load_bundle(root, target="staging", environ=ENV).jobs["hello"].settings["tasks"][0]
    assert task["timeout_seconds"] == 60
    assert isinstance(task["notebook_task"]["notebook_path"], LocalFile)


def test_unknown_target_names_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"databricks.yml: targets: stage: no such target. Available targets: dev, qa, prod"):
        load_bundle(write_bundle(tmp_path, MINIMAL), target="stage", environ=ENV)


def test_required_variable_without_value_says_how_to_assign_it(tmp_path: Path) -> None:
    files = {**MINIMAL, "databricks.yml": MINIMAL["databricks.yml"].replace("default: cluster-default", "description: x")}
    with pytest.raises(BundleError, match=r'databricks.yml: variables.cluster_id: no value assigned to required variable cluster_id\. Assignment can be done '
                                          r'through the "--var" flag or by setting the BUNDLE_VAR_cluster_id'):
        load_bundle(write_bundle(tmp_path, files), environ=ENV)


def test_undeclared_flag_variable_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="variable colour has not been defined"):
        load_bundle(write_bundle(tmp_path, MINIMAL), variables={"colour": "red"}, environ=ENV)


def test_missing_notebook_names_file_key_and_path(tmp_path: Path) -> None:
    files = {k: v for k, v in MINIMAL.items() if k != "src/hello.py"}
    with pytest.raises(BundleError) as err:
        load_bundle(write_bundle(tmp_path, files), environ=ENV)
    message = str(err.value)
    assert "resources/jobs.yml: resources.jobs.hello.tasks[0].notebook_task.notebook_path" in message
    assert "notebook ../src/hello.py not found" in message


def test_a_python_file_without_the_notebook_header_is_not_a_notebook(tmp_path: Path) -> None:
    files = {**MINIMAL, "src/hello.py": "print('plain script')\n"}
    with pytest.raises(BundleError, match=r"expected a notebook but got a file: \.\./src/hello\.py"):
        load_bundle(write_bundle(tmp_path, files), environ=ENV)


def test_unknown_reference_is_reported_with_its_location(tmp_path: Path) -> None:
    files = {**MINIMAL, "resources/jobs.yml": MINIMAL["resources/jobs.yml"].replace("${var.greeting}", "${var.greting}")}
    with pytest.raises(BundleError, match=r"resources/jobs.yml: resources.jobs.hello.parameters\[0\].default: "
                                          r"reference does not exist: \$\{var.greting\}"):
        load_bundle(write_bundle(tmp_path, files), environ=ENV)


def test_a_job_key_defined_in_two_files_is_rejected(tmp_path: Path) -> None:
    files = {**MINIMAL, "resources/more.yml": "resources:\n  jobs:\n    hello:\n      name: again\n"}
    with pytest.raises(BundleError, match=r"more.yml: resources.jobs.hello: defined twice \(also in .*jobs.yml\)"):
        load_bundle(write_bundle(tmp_path, files), environ=ENV)


def test_variables_can_refer_to_the_target(tmp_path: Path) -> None:
    files = {**MINIMAL, "databricks.yml": MINIMAL["databricks.yml"].replace(
        "          greeting:\n", "          secret:\n            default: app/${bundle.target}/token\n          greeting:\n")}
    assert load_bundle(write_bundle(tmp_path, files), target="qa", environ=ENV).variables["secret"] == "app/qa/token"

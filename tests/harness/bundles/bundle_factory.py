"""Writes small bundles into a temporary folder, one file per argument, for the bundle tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

NOTEBOOK = "# Databricks notebook source\nprint('hello')\n"


def write_bundle(root: Path, files: dict[str, str]) -> Path:
    """`files` maps a path relative to `root` to its text (dedented); returns `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


MINIMAL = {
    "databricks.yml": """
        bundle:
          name: demo
        include:
          - resources/*.yml
        variables:
          cluster_id:
            default: cluster-default
          greeting:
            description: Passed to the notebook.
            default: hello
          token_secret:
            default: stepbricks/${bundle.target}/databricks-token
        targets:
          dev:
            default: true
            mode: development
          qa:
            variables:
              greeting: hello-qa
          prod:
            mode: production
            workspace:
              root_path: /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}
        """,
    "resources/jobs.yml": """
        resources:
          jobs:
            hello:
              name: demo-hello-${bundle.target}
              schedule:
                quartz_cron_expression: "0 0 * * * ?"
                timezone_id: UTC
              parameters:
                - {name: greeting, default: "${var.greeting}"}
              tasks:
                - task_key: hello
                  notebook_task:
                    notebook_path: ../src/hello.py
                  existing_cluster_id: ${var.cluster_id}
            after:
              name: demo-after
              tasks:
                - task_key: trigger
                  run_job_task:
                    job_id: ${resources.jobs.hello.id}
        """,
    "src/hello.py": NOTEBOOK,
}

"""The durable data pipeline of seed 002, as a Step Functions state machine.

    def datapipeline(ctx):
        p = yield ctx.promise()                      # RunJob's task token
        yield ctx.run(trigger_databricks_job, p.id)  # the token travels to the backend's worker (SQS)
        yield p                                      # .waitForTaskToken: paused until SendTaskSuccess
        yield ctx.run(send_email_to_user)            # Notify: an SNS message

Resources are created idempotently (a queue, a topic, the state machine), named with a prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DONE = "I am done"
WORKING = "working on it"


@dataclass(frozen=True)
class PipelineResources:
    state_machine_arn: str
    queue_url: str
    topic_arn: str


def definition(queue_url: str, topic_arn: str) -> dict[str, Any]:
    return {
        "Comment": "Seed 002's data pipeline: trigger the Databricks job, wait for its callback, notify.",
        "StartAt": "RunJob",
        "States": {
            "RunJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {"promise_id.$": "$$.Task.Token", "url.$": "$.url", "id.$": "$.id"},
                },
                "ResultPath": "$.job",
                "Next": "Notify",
            },
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": topic_arn,
                    "Message.$": "States.Format('data pipeline {} is ready: {}', $.id, $.job.value)",
                },
                "ResultPath": None,
                "End": True,
            },
        },
    }


def ensure_pipeline(sfn: Any, sqs: Any, sns: Any, *, prefix: str, role_arn: str) -> PipelineResources:
    """Create (or update) the queue, topic and state machine; safe to call on every backend start."""
    queue_url = sqs.create_queue(QueueName=f"{prefix}-jobs")["QueueUrl"]
    topic_arn = sns.create_topic(Name=f"{prefix}-done")["TopicArn"]
    text = json.dumps(definition(queue_url, topic_arn))
    name = f"{prefix}-datapipeline"
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=text, roleArn=role_arn)
                return PipelineResources(machine["stateMachineArn"], queue_url, topic_arn)
    arn = sfn.create_state_machine(name=name, definition=text, roleArn=role_arn, type="STANDARD")["stateMachineArn"]
    return PipelineResources(arn, queue_url, topic_arn)


def execution_arn(state_machine_arn: str, name: str) -> str:
    """An execution's ARN from its state machine and name (the ARN format AWS documents)."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def begin_run(sfn: Any, resources: PipelineResources, run_id: str, url: str) -> str:
    """Start the pipeline named `run_id` once (a second call finds the same execution); say where it is."""
    try:
        sfn.start_execution(stateMachineArn=resources.state_machine_arn, name=run_id,
                            input=json.dumps({"id": run_id, "url": url}))  # fmt: skip
    except sfn.exceptions.ExecutionAlreadyExists:
        pass  # the durable pipeline already exists: report on it
    status = sfn.describe_execution(executionArn=execution_arn(resources.state_machine_arn, run_id))
    if status["status"] == "SUCCEEDED":
        return DONE
    if status["status"] == "RUNNING":
        return WORKING
    return f"{status['status'].lower()}: {status.get('error', '')} {status.get('cause', '')}".strip()

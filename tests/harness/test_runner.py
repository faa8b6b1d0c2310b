"""Finding the execution the S3 trigger started for an upload (`harness.runner.find_execution`)."""

from __future__ import annotations

import json
import threading

from harness import runner


def test_the_triggered_execution_is_found_once_it_starts_and_each_other_input_is_read_once(
    stepbricks, small_machine, monkeypatch
):
    sfn = stepbricks.client("stepfunctions")
    others = [
        sfn.start_execution(stateMachineArn=small_machine["arn"], name=f"find-other-{i}",
                            input=json.dumps({"mode": "skip", "bucket": "raw", "key": f"incoming/other-{i}.csv"})
                            )["executionArn"]
        for i in range(4)
    ]
    described: list[str] = []
    listings: list[str] = []
    real_client = runner.aws_client

    def counting_client(service, env, **kwargs):
        client = real_client(service, env, **kwargs)
        client.meta.events.register("provide-client-params.sfn.DescribeExecution",
                                    lambda params, **_: described.append(params["executionArn"]))
        client.meta.events.register("provide-client-params.sfn.ListExecutions",
                                    lambda params, **_: listings.append(params["stateMachineArn"]))
        return client

    monkeypatch.setattr(runner, "aws_client", counting_client)
    wanted = {"mode": "skip", "bucket": "raw", "key": "incoming/late.csv", "etag": "0123abcd"}
    # the trigger starts it a moment after the search began: a few polls find nothing first
    late = threading.Timer(1.0, sfn.start_execution, kwargs={
        "stateMachineArn": small_machine["arn"], "name": "find-late", "input": json.dumps(wanted)})
    late.start()
    try:
        found = runner.find_execution(stepbricks.env, small_machine["arn"], bucket="raw", key="incoming/late.csv",
                                      etag="0123abcd", timeout=30)
    finally:
        late.join()

    assert found.endswith(":find-late")
    assert len(listings) >= 2  # the premise: it polled while the execution did not exist yet
    assert {arn: described.count(arn) for arn in others} == dict.fromkeys(others, 1)
    assert described.count(found) == 1

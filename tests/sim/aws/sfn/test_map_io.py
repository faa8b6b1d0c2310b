"""A Distributed Map's ItemReader, ItemBatcher and ResultWriter, and the redrive of a failed map run, through boto3.

The spec is the Step Functions developer guide: "ItemReader (Map)" (ReaderConfig, the listObjectsV2 item
shape, S3 Inventory manifests), "ItemBatcher (Map)" ({"Items", "BatchInput"}), "ResultWriter (Map)"
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html: manifest.json and the
SUCCEEDED_0/FAILED_0 files, ResultWriterDetails) and "Redriving Map Runs"; DescribeMapRun's redrive fields
are the API reference's.
"""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

PASS = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def bucket(aws) -> str:
    name = f"map-io-{uuid.uuid4().hex[:8]}"
    aws.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def s3(aws) -> Any:
    return aws.client("s3")


def _map(processor: dict | None = None, **fields: Any) -> dict:
    return {"StartAt": "Files", "States": {"Files": {
        "Type": "Map", "Label": "files", "MaxConcurrency": 2, **fields,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          **(processor or PASS)}, "End": True}}}  # fmt: skip


def _reader(bucket: str, key: str, **config: Any) -> dict:
    return {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
            "Parameters": {"Bucket": bucket, "Key": key}}  # fmt: skip


def _read(s3, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


FAIL_ABOVE_2 = {"StartAt": "Check", "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "TooBig"}],
              "Default": "Fine"},
    "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "above 2"},
    "Fine": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}  # fmt: skip


def test_result_writer_writes_the_manifest_and_one_file_per_status(run_machine, s3, bucket) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "out"}}
    run = run_machine(_map(FAIL_ABOVE_2, ItemsPath="$.items", ToleratedFailureCount=1, ResultWriter=writer),
                      {"items": [{"n": 1}, {"n": 2}, {"n": 3}]})

    assert run.status == "SUCCEEDED", run.description
    [started] = run.details("MapRunStarted")
    map_run_arn, map_run_id = started["mapRunArn"], started["mapRunArn"].rsplit(":", 1)[-1]
    manifest_key = f"out/{map_run_id}/manifest.json"
    assert run.output == {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}

    manifest = _read(s3, bucket, manifest_key)
    assert manifest["DestinationBucket"] == bucket and manifest["MapRunArn"] == map_run_arn
    files = manifest["ResultFiles"]
    assert set(files) == {"FAILED", "PENDING", "SUCCEEDED"} and files["PENDING"] == []
    assert [f["Key"] for f in files["SUCCEEDED"]] == [f"out/{map_run_id}/SUCCEEDED_0.json"]
    assert [f["Key"] for f in files["FAILED"]] == [f"out/{map_run_id}/FAILED_0.json"]
    for listed in files["SUCCEEDED"] + files["FAILED"]:
        assert s3.head_object(Bucket=bucket, Key=listed["Key"])["ContentLength"] == listed["Size"]

    succeeded = _read(s3, bucket, files["SUCCEEDED"][0]["Key"])
    assert [json.loads(r["Input"]) for r in succeeded] == [{"n": 1}, {"n": 2}]
    assert [json.loads(r["Output"]) for r in succeeded] == [{"doubled": 2}, {"doubled": 4}]
    first = succeeded[0]
    assert {"ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "RedriveCount",
            "RedriveStatus", "StartDate", "StateMachineArn", "Status", "StopDate"} <= set(first)  # fmt: skip
    assert (first["Status"], first["RedriveCount"], first["InputDetails"]) == ("SUCCEEDED", 0, {"Included": True})
    assert first["StateMachineArn"] == run.description["stateMachineArn"] + "/files"
    assert first["ExecutionArn"].endswith(":" + first["Name"]) and ":execution:" in first["ExecutionArn"]
    [failed] = _read(s3, bucket, files["FAILED"][0]["Key"])
    assert (failed["Status"], failed["Error"], failed["Cause"]) == ("FAILED", "TooBig", "above 2")
    assert "Output" not in failed and failed["RedriveStatus"] == "REDRIVABLE_BY_MAP_RUN"


def test_a_map_run_that_fails_still_writes_its_results(run_machine, s3, bucket) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "failing/"}}
    run = run_machine(_map(FAIL_ABOVE_2, ItemsPath="$.items", ResultWriter=writer), {"items": [{"n": 3}, {"n": 1}]})

    assert run.status == "FAILED" and run.description["error"] == "States.ExceedToleratedFailureThreshold"
    map_run_id = run.details("MapRunStarted")[0]["mapRunArn"].rsplit(":", 1)[-1]
    files = _read(s3, bucket, f"failing/{map_run_id}/manifest.json")["ResultFiles"]
    assert (len(files["FAILED"]), len(files["SUCCEEDED"])) == (1, 1)


def test_item_batcher_groups_items_with_the_batch_input(run_machine) -> None:
    batcher = {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run", "fixed": "yes"}}
    run = run_machine(_map(ItemsPath="$.items", ItemBatcher=batcher,
                           ItemSelector={"id.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"}),
                      {"run": "r1", "items": ["a", "b", "c", "d", "e"]})  # fmt: skip

    assert run.status == "SUCCEEDED", run.description
    assert run.output == [
        {"Items": [{"id": "a", "at": 0}, {"id": "b", "at": 1}], "BatchInput": {"run": "r1", "fixed": "yes"}},
        {"Items": [{"id": "c", "at": 2}, {"id": "d", "at": 3}], "BatchInput": {"run": "r1", "fixed": "yes"}},
        {"Items": [{"id": "e", "at": 4}], "BatchInput": {"run": "r1", "fixed": "yes"}}]


def test_item_batcher_limits_the_bytes_of_a_batch(run_machine, sfn) -> None:
    items = ["x" * 40, "y" * 40, "z" * 40]  # {"Items":["x…x"]} is 55 bytes; two items 98
    run = run_machine(_map(ItemsPath="$.items", ItemBatcher={"MaxInputBytesPerBatchPath": "$.limit"}),
                      {"items": items, "limit": 100})  # fmt: skip
    assert run.output == [{"Items": items[:2]}, {"Items": items[2:]}]
    described = sfn.describe_map_run(mapRunArn=run.details("MapRunStarted")[0]["mapRunArn"])
    assert (described["executionCounts"]["total"], described["itemCounts"]["total"]) == (2, 3), (
        "a batch is one child execution of several items")


def test_tolerated_failures_count_the_items_of_a_failed_batch(run_machine, sfn, s3, bucket) -> None:
    """ItemReader (CSV) → ItemBatcher (2 a child) → a child fails when its batch holds a "bad" row."""
    s3.put_object(Bucket=bucket, Key="csv/tolerance.csv", Body=b"id,kind\n1,ok\n2,bad\n3,ok\n4,ok\n5,ok\n")
    child = {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.Items[1].kind", "StringEquals": "bad",
                                                 "Next": "Bad"}], "Default": "Good"},
        "Bad": {"Type": "Fail", "Error": "BadRow", "Cause": "a bad row"},
        "Good": {"Type": "Succeed"}}}  # fmt: skip
    reader = _reader(bucket, "csv/tolerance.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW")

    def fly(**tolerance: Any) -> Any:
        return run_machine(_map(child, ItemReader=reader, ItemBatcher={"MaxItemsPerBatch": 2}, **tolerance))

    tolerated, refused = fly(ToleratedFailurePercentage=40), fly(ToleratedFailureCount=1)

    assert tolerated.status == "SUCCEEDED", "2 of 5 items failed: 40 % is tolerated"
    assert (refused.status, refused.description["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold"), (
        "the failed batch's 2 items exceed a count of 1")
    counts = sfn.describe_map_run(mapRunArn=tolerated.details("MapRunStarted")[0]["mapRunArn"])
    assert (counts["itemCounts"]["failed"], counts["itemCounts"]["succeeded"]) == (2, 3)
    assert (counts["executionCounts"]["failed"], counts["executionCounts"]["succeeded"]) == (1, 2)


CSV_ROWS = [{"id": "1", "city": "Oslo", "note": "a b"}, {"id": "2", "city": "Lima", "note": ""}]


@pytest.mark.parametrize(("delimiter", "sep"), [("COMMA", ","), ("PIPE", "|"), ("SEMICOLON", ";"), ("TAB", "\t")])
def test_csv_with_a_header_row_and_each_delimiter(run_machine, s3, bucket, delimiter, sep) -> None:
    key = f"csv/{delimiter}.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=f"id{sep}city{sep}note\n1{sep}Oslo{sep}a b\n2{sep}Lima{sep}\n".encode())
    reader = _reader(bucket, key, InputType="CSV", CSVHeaderLocation="FIRST_ROW", CSVDelimiter=delimiter)
    run = run_machine(_map(ItemReader=reader))
    assert run.status == "SUCCEEDED", run.description
    assert run.output == CSV_ROWS


def test_csv_with_given_headers_reads_every_row_as_data(run_machine, s3, bucket) -> None:
    s3.put_object(Bucket=bucket, Key="csv/given.csv", Body=b"1 Oslo\n2 Lima\n3 Pune\n")
    reader = _reader(bucket, "csv/given.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                     CSVHeaders=["id", "city"], CSVDelimiter="SPACE", MaxItems=2)  # fmt: skip
    assert run_machine(_map(ItemReader=reader)).output == [{"id": "1", "city": "Oslo"}, {"id": "2", "city": "Lima"}]


def test_csv_with_duplicate_headers_fails_with_item_reader_failed(run_machine, s3, bucket) -> None:
    s3.put_object(Bucket=bucket, Key="csv/dup.csv", Body=b"a,a\n1,2\n")
    run = run_machine(_map(ItemReader=_reader(bucket, "csv/dup.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW")))
    assert run.status == "FAILED"
    assert (run.description["error"], run.description["cause"]) == (
        "States.ItemReaderFailed", "CSV headers cannot contain duplicates.")


def test_a_missing_object_fails_with_item_reader_failed_naming_s3s_error(run_machine, bucket) -> None:
    run = run_machine(_map(ItemReader=_reader(bucket, "nothing-here.json", InputType="JSON")))
    assert (run.status, run.description["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "NoSuchKey" in run.description["cause"]


def test_json_and_jsonl_files_with_max_items_and_max_items_path(run_machine, s3, bucket) -> None:
    values = [{"k": i} for i in range(5)]
    s3.put_object(Bucket=bucket, Key="data/items.json", Body=json.dumps(values).encode())
    s3.put_object(Bucket=bucket, Key="data/items.jsonl", Body="\n".join(json.dumps(v) for v in values).encode() + b"\n")

    as_json = run_machine(_map(ItemReader=_reader(bucket, "data/items.json", InputType="JSON", MaxItems=3)))
    as_jsonl = run_machine(_map(ItemReader=_reader(bucket, "data/items.jsonl", InputType="JSONL",
                                                   MaxItemsPath="$.limit")), {"limit": 4})  # fmt: skip
    whole = run_machine(_map(ItemReader=_reader(bucket, "data/items.jsonl", InputType="JSONL")))

    assert as_json.output == values[:3]
    assert as_jsonl.output == values[:4]
    assert whole.output == values


def test_an_s3_inventory_manifest_yields_the_rows_of_its_files(run_machine, s3, bucket) -> None:
    rows = [f'"{bucket}","photos/{i}.jpg","{100 + i}"' for i in range(3)]
    s3.put_object(Bucket=bucket, Key="inventory/data/part-0.csv.gz", Body=gzip.compress("\n".join(rows[:2]).encode()))
    s3.put_object(Bucket=bucket, Key="inventory/data/part-1.csv.gz", Body=gzip.compress(rows[2].encode()))
    manifest = {"sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{bucket}", "version": "2016-11-30",
                "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
                "files": [{"key": "inventory/data/part-0.csv.gz", "size": 1, "MD5checksum": "x"},
                          {"key": "inventory/data/part-1.csv.gz", "size": 1, "MD5checksum": "y"}]}  # fmt: skip
    s3.put_object(Bucket=bucket, Key="inventory/manifest.json", Body=json.dumps(manifest).encode())

    run = run_machine(_map(ItemReader=_reader(bucket, "inventory/manifest.json", InputType="MANIFEST")))

    assert run.status == "SUCCEEDED", run.description
    assert run.output == [{"Bucket": bucket, "Key": f"photos/{i}.jpg", "Size": str(100 + i)} for i in range(3)]


def test_list_objects_v2_reads_every_object_under_the_prefix(run_machine, s3, bucket) -> None:
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"landing/f{i}.csv", Body=b"x" * (i + 1))
    s3.put_object(Bucket=bucket, Key="elsewhere/g.csv", Body=b"y")
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2",
              "Parameters": {"Bucket": bucket, "Prefix": "landing/", "MaxKeys": 2}}  # fmt: skip

    run = run_machine(_map(ItemReader=reader))

    assert run.status == "SUCCEEDED", run.description
    assert [(o["Key"], o["Size"]) for o in run.output] == [(f"landing/f{i}.csv", i + 1) for i in range(3)], (
        "every page, not the first MaxKeys")
    first = run.output[0]
    assert set(first) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert first["Etag"] == s3.head_object(Bucket=bucket, Key="landing/f0.csv")["ETag"]
    assert isinstance(first["LastModified"], int) and first["StorageClass"] == "STANDARD"


def _counting(bucket: str) -> dict:
    """A child that records each run of its item under runs/<n>/ and fails for n > 2 until s3://bucket/fixed exists."""
    return {"StartAt": "Record", "States": {
        "Record": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                   "Parameters": {"Bucket": bucket, "Key.$": "States.Format('runs/{}/{}', $.n, States.UUID())",
                                  "Body": "ran"}, "ResultPath": None, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Gate"}],
                  "Default": "Done"},
        "Gate": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                 "Parameters": {"Bucket": bucket, "Key": "fixed"}, "ResultPath": None, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True}}}  # fmt: skip


def _runs_per_item(s3, bucket: str) -> dict[int, int]:
    found: dict[int, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="runs/"):
        for obj in page.get("Contents", []):
            n = int(obj["Key"].split("/")[1])
            found[n] = found.get(n, 0) + 1
    return found


def test_redriving_a_failed_map_run_reruns_only_its_failed_items(aws, sfn, create_machine, wait_for) -> None:
    bucket = f"map-redrive-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "results"}}
    machine = create_machine(_map(_counting(bucket), ItemsPath="$.items", ResultWriter=writer))
    execution = aws.start_execution(machine, {"items": [{"n": n} for n in range(1, 6)]})
    assert wait_for(sfn, execution, 60)["status"] == "FAILED"
    assert _runs_per_item(s3, bucket) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    [map_run] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    before = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (before["status"], before["redriveCount"], before["itemCounts"]["failed"]) == ("FAILED", 0, 3)
    assert "redriveDate" not in before

    s3.put_object(Bucket=bucket, Key="fixed", Body=b"ok")
    sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution, 60)

    assert described["status"] == "SUCCEEDED", described
    assert _runs_per_item(s3, bucket) == {1: 1, 2: 1, 3: 2, 4: 2, 5: 2}, "only the failed items ran again"
    assert [m["mapRunArn"] for m in sfn.list_map_runs(executionArn=execution)["mapRuns"]] == [
        map_run["mapRunArn"]], "the same map run, redriven, not a new one"
    after = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (after["status"], after["redriveCount"]) == ("SUCCEEDED", 1) and after["redriveDate"]
    counts = after["itemCounts"]
    wanted = ("total", "succeeded", "failed", "running", "pending", "pendingRedrive", "failuresNotRedrivable")
    assert {k: counts[k] for k in wanted} == {
        "total": 5, "succeeded": 5, "failed": 0, "running": 0, "pending": 0, "pendingRedrive": 0,
        "failuresNotRedrivable": 0}
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    [redriven] = [e["mapRunRedrivenEventDetails"] for e in events if e["type"] == "MapRunRedriven"]
    assert redriven == {"mapRunArn": map_run["mapRunArn"], "redriveCount": 1}
    output = json.loads(described["output"])
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=output["ResultWriterDetails"]["Key"])["Body"].read())
    assert manifest["ResultFiles"]["FAILED"] == []
    records = json.loads(s3.get_object(Bucket=bucket, Key=manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])["Body"].read())
    assert [(json.loads(r["Output"])["n"], r["RedriveCount"]) for r in records] == [
        (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]


def test_a_definition_with_item_batcher_and_csv_delimiter_is_accepted(sfn, create_machine, bucket) -> None:
    reader = _reader(bucket, "k.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW", CSVDelimiter="PIPE")
    arn = create_machine(_map(ItemReader=reader, ItemBatcher={"MaxItemsPerBatch": 10}))
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["States"]["Files"][
        "ItemBatcher"] == {"MaxItemsPerBatch": 10}
    with pytest.raises(ClientError) as refused:
        create_machine(_map(ItemReader=reader, ItemBatchr={"MaxItemsPerBatch": 10}))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    inline = _map(ItemBatcher={"MaxItemsPerBatch": 10})
    inline["States"]["Files"]["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    with pytest.raises(ClientError) as refused:
        create_machine(inline)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition", "ItemBatcher is for Distributed Maps"

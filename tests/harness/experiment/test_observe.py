"""The judge's evidence read from the endpoints: each committed manifest is read once per content."""

from __future__ import annotations

import json
import uuid

from harness.experiment import observe


def _put_manifest(s3, bucket: str, batch: str, source_uri: str, rows: int) -> None:
    s3.put_object(Bucket=bucket, Key=f"processed/processing_date=2026-01-02/batch_id={batch}/part-0.parquet", Body=b"")
    s3.put_object(Bucket=bucket, Key=f"processed/processing_date=2026-01-02/batch_id={batch}/_manifest.json",
                  Body=json.dumps({"source_uri": source_uri, "rows_in": rows, "files": []}).encode())


def test_each_manifest_is_read_once_until_its_content_changes_and_a_batch_without_one_is_incomplete(
    stepbricks, monkeypatch
):
    s3 = stepbricks.client("s3")
    bucket = f"observe-spec-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for i in range(3):
        _put_manifest(s3, bucket, f"b{i}", f"s3://raw/incoming/{i}.csv", rows=10 + i)
    s3.put_object(Bucket=bucket, Key="processed/processing_date=2026-01-02/batch_id=half/part-0.parquet", Body=b"")
    reads: list[str] = []
    real_client = observe.aws_client

    def counting_client(service, env, **kwargs):
        client = real_client(service, env, **kwargs)
        client.meta.events.register("provide-client-params.s3.GetObject", lambda params, **_: reads.append(params["Key"]))
        return client

    monkeypatch.setattr(observe, "aws_client", counting_client)

    first, _, incomplete = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/1.csv")
    assert first is not None and first["rows_in"] == 11 and first["output_uri"].endswith("batch_id=b1")
    assert incomplete == ["processed/processing_date=2026-01-02/batch_id=half"]
    assert len(reads) == 3

    second, _, _ = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/2.csv")
    assert second is not None and second["rows_in"] == 12
    assert len(reads) == 3  # the same three contents: nothing read again

    _put_manifest(s3, bucket, "b2", "s3://raw/incoming/2.csv", rows=99)  # rewritten (a re-run's commit)
    third, _, _ = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/2.csv")
    assert third is not None and third["rows_in"] == 99
    assert reads[3:] == ["processed/processing_date=2026-01-02/batch_id=b2/_manifest.json"]

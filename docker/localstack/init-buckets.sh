#!/bin/sh
# LocalStack ready hook (/etc/localstack/init/ready.d): the bucket the MLflow server stores artifacts in
# (docs/contracts.md: stepbricks-mlflow). The pipeline's own buckets are created by `stepbricks deploy`.
set -eu
awslocal s3 mb s3://stepbricks-mlflow 2>/dev/null || true

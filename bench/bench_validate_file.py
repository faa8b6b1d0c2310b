"""validate_file on a ~110 MB CSV in S3: time and peak Python memory, streamed vs the seed's whole read.

Usage: python bench/bench_validate_file.py
"""

from __future__ import annotations

import csv
import io
import os
import time
import tracemalloc

ROWS = 2_000_000
ROW = "C00000042,2024-01-31,42,Lisbon,premium,24,79.5,1908.0,3,1\n"
HEADER = "customer_id,signup_date,age,city,plan,tenure_months,monthly_charges,total_charges,support_calls,churned\n"


def main() -> None:
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from lambdas.validate_file import lambda_handler

    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bench-bucket")
        s3.put_object(Bucket="bench-bucket", Key="big.csv", Body=(HEADER + ROW * ROWS).encode())

        def whole_read() -> int:  # the seed's way: read and decode it all, then count
            text = s3.get_object(Bucket="bench-bucket", Key="big.csv")["Body"].read().decode()
            return sum(1 for _ in csv.reader(io.StringIO(text))) - 1

        def streamed() -> int:
            return lambda_handler({"bucket": "bench-bucket", "key": "big.csv"}, None)["rowCount"]

        rows = []
        for name, fn in (("seed-style whole read", whole_read), ("validate_file (streamed)", streamed)):
            tracemalloc.start()
            t = time.perf_counter()
            n = fn()
            seconds = time.perf_counter() - t
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            rows.append((name, n, seconds, peak))
    size = len(ROW) * ROWS / 2**20
    print(f"file: {size:.0f} MiB, {ROWS} rows")
    print(f"{'approach':28} {'rows':>9} {'seconds':>8} {'MiB/s':>7} {'peak MiB':>9}")
    for name, n, seconds, peak in rows:
        print(f"{name:28} {n:>9} {seconds:>8.2f} {size / seconds:>7.0f} {peak:>9.1f}")
    print(f"ratio streamed/whole: time {rows[1][2] / rows[0][2]:.2f}x, peak memory {rows[1][3] / rows[0][3]:.3f}x")


if __name__ == "__main__":
    main()

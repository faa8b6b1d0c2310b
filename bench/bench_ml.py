"""ml: where the training and evaluation jobs spend their time, and what each cost-saving choice buys.

Run: .venv/bin/python bench/bench_ml.py [--rows N]

Measured in one run, against a real moto server (S3) and fresh SQLite MLflow stores:
- `import mlflow` in a fresh interpreter (what every job process pays once);
- a new SQLite store: first use (schema migration) vs a copy of an already-migrated file vs a warm store;
- `train` on N generated customers: one thread (our default) vs all threads (OpenMP), same data;
- `mlflow.sklearn.log_model` + register: our call (explicit pip requirements, 5-row signature) vs
  MLflow's defaults (requirements inferred by loading the model in a subprocess);
- the whole `run_training` and `run_evaluation` jobs on N customers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def import_cost() -> float:
    code = (
        "import time; t = time.perf_counter(); import mlflow, mlflow.sklearn; print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer

    rows: list[tuple[str, float, str]] = []
    rows.append(("import mlflow + mlflow.sklearn (fresh interpreter)", import_cost(), ""))

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench-ml-"))
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        MLFLOW_S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    s3 = boto3.client("s3")
    for bucket in ("stepbricks-processed", "stepbricks-models", "stepbricks-results", "stepbricks-mlflow"):
        s3.create_bucket(Bucket=bucket)
    try:
        import mlflow

        from ml import tracking

        def first_use(db: Path) -> None:
            mlflow.set_tracking_uri(f"sqlite:///{db}")
            tracking.ensure_experiment(f"bench-{db.stem}")

        migrate, _ = timed(first_use, work / "fresh.db")
        shutil.copy(work / "fresh.db", work / "template.db")
        copy, _ = timed(shutil.copy, work / "template.db", work / "copied.db")
        copied_use, _ = timed(first_use, work / "copied.db")
        warm, _ = timed(first_use, work / "fresh.db")
        rows.append(("new SQLite store: first use (schema migration)", migrate, ""))
        rows.append(
            (
                "new SQLite store: copy a migrated file + first use",
                copy + copied_use,
                f"{migrate / (copy + copied_use):.0f}x faster",
            )
        )
        rows.append(("warm SQLite store: get-or-create experiment", warm, ""))

        from ml_synthetic import batch_objects, processed_frame
        from sklearn.metrics import roc_auc_score

        from ml.features import feature_frame, split, target
        from ml.train import train

        df = processed_frame(args.rows, seed=0)
        parts = split(df)
        one, result = timed(train, parts.train, seed=42, threads=1)
        everything, _ = timed(train, parts.train, seed=42, threads=os.cpu_count())
        auc = roc_auc_score(
            target(parts.holdout), result.pipeline.predict_proba(feature_frame(parts.holdout))[:, 1]
        )
        load = os.getloadavg()[0]
        rows.append((f"train {len(parts.train)} rows, 1 thread", one, f"holdout ROC AUC {auc:.3f}"))
        rows.append(
            (
                f"train {len(parts.train)} rows, {os.cpu_count()} threads (load avg {load:.1f})",
                everything,
                f"{everything / one:.2f}x the 1-thread time",
            )
        )

        mlflow.set_tracking_uri(f"sqlite:///{work / 'fresh.db'}")
        experiment = tracking.ensure_experiment("bench-log-model")
        example = feature_frame(parts.train.head(5))
        with mlflow.start_run(experiment_id=experiment):
            ours, _ = timed(tracking.log_and_register, result.pipeline, example, "bench-ours")
        with mlflow.start_run(experiment_id=experiment):
            defaults, _ = timed(
                mlflow.sklearn.log_model,
                result.pipeline,
                name="model",
                registered_model_name="bench-defaults",
                serialization_format=tracking.SERIALIZATION_FORMAT,  # same format: only the defaults differ
            )
        rows.append(("log_model + register: explicit requirements, 5-row signature", ours, ""))
        rows.append(
            (
                "log_model + register: MLflow defaults (inferred requirements, no signature)",
                defaults,
                f"{defaults / ours:.1f}x ours",
            )
        )

        from ml.evaluate import run_evaluation
        from ml.train import run_training

        for key, data in batch_objects(df, "bench", parts=4).items():
            s3.put_object(Bucket="stepbricks-processed", Key=f"processed/{key}", Body=data)
        processed = "s3://stepbricks-processed/processed/batch_id=bench"
        job, trained = timed(
            run_training,
            processed_uri=processed,
            model_name="bench-churn",
            models_root="s3://stepbricks-models/models",
        )
        rows.append(
            (
                f"run_training job ({args.rows} rows, read + train + log + copy)",
                job,
                "includes a 1-thread train as above",
            )
        )
        evaluation, evaluated = timed(
            run_evaluation,
            processed_uri=processed,
            model_name="bench-churn",
            model_version=trained["model_version"],
            results_root="s3://stepbricks-results/evaluation",
        )
        rows.append(
            (
                f"run_evaluation job ({evaluated['holdout_rows']} holdout rows)",
                evaluation,
                f"ROC AUC {evaluated['metrics']['roc_auc']:.3f}",
            )
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print(f"{'step'.ljust(width)}  {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name.ljust(width)}  {seconds:8.3f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

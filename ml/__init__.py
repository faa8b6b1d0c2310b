"""Training and evaluation jobs of the reference pipeline: scikit-learn + MLflow, run as Databricks notebooks.

Entry points (what the notebooks in `ml/notebooks/` call):
- `ml.train.run_training(*, processed_uri, model_name, models_root, seed=42, storage=None) -> dict`
- `ml.evaluate.run_evaluation(*, processed_uri, model_name, model_version, results_root, min_roc_auc=0.70,
  storage=None) -> dict`

Importing `ml` is cheap: MLflow (~2-4 s to import) is loaded only by the jobs that log.
"""

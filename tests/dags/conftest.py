"""The DAG tests have two halves: `in_airflow/` runs inside Airflow's own venv (.venv-airflow), and
`test_dags_in_airflow_venv.py` drives it from the main suite. Where Airflow is not installed, pytest
does not collect `in_airflow/` (the driver reports a skip with the reason instead)."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("airflow") else ["in_airflow"]

"""The five-row `sample_data.csv` / `sample_data.json` of seed 003, shipped verbatim.

They do not carry the customer columns: fed to the ETL, every record is quarantined with a reason
(`missing customer_id`), which makes them the smallest "wrong file" input.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).with_name("samples")
SAMPLE_CSV = SAMPLES_DIR / "sample_data.csv"
SAMPLE_JSON = SAMPLES_DIR / "sample_data.json"

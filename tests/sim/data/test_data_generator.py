"""The raw customer generator: deterministic, streamed, learnable, and honest about the dirt it injects."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.data import DIRTY_KINDS, SAMPLE_CSV, SAMPLE_JSON, generate
from sim.data.customers import COLUMNS
from sim.data.generator import CHUNK_ROWS, GeneratorError

SEEDS = Path("/work/shared/seeds")


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path):
    a = generate(tmp_path / "a.csv", rows=3000, seed=7, dirty_share=0.1)
    b = generate(tmp_path / "b.csv", rows=3000, seed=7, dirty_share=0.1)
    generate(tmp_path / "c.csv", rows=3000, seed=8, dirty_share=0.1)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    assert a.dirty == b.dirty


def test_clean_csv_has_header_unique_ids_and_every_column_filled(tmp_path):
    report = generate(tmp_path / "c.csv", rows=CHUNK_ROWS + 17, seed=1)  # spans two chunks
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == report.rows == report.clean_rows == CHUNK_ROWS + 17
    assert len({r["customer_id"] for r in rows}) == len(rows)
    assert all(all(v.strip() for v in r.values()) for r in rows)
    assert {r["plan"].strip().lower() for r in rows} == {"basic", "standard", "premium"}
    assert report.bytes_written == (tmp_path / "c.csv").stat().st_size


def test_churn_rate_is_between_a_fifth_and_three_tenths(tmp_path):
    report = generate(tmp_path / "c.csv", rows=20_000, seed=0)
    assert 0.20 <= report.churn_rate <= 0.30


def test_churn_depends_on_tenure_and_support_calls(tmp_path):
    generate(tmp_path / "c.csv", rows=20_000, seed=2)
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    def rate(pick):
        chosen = [int(r["churned"]) for r in rows if pick(r)]
        return sum(chosen) / len(chosen)

    assert rate(lambda r: int(r["tenure_months"]) < 6) > 2 * rate(lambda r: int(r["tenure_months"]) >= 36)
    assert rate(lambda r: int(r["support_calls"]) >= 4) > 2 * rate(lambda r: int(r["support_calls"]) == 0)


def test_jsonl_clean_lines_are_json_objects_with_typed_values(tmp_path):
    generate(tmp_path / "c.jsonl", rows=500, seed=3, fmt="jsonl")
    records = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 500
    assert all(list(r) == list(COLUMNS) for r in records)
    assert all(isinstance(r["age"], int) and isinstance(r["monthly_charges"], float) for r in records)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_dirty_counts_add_up_and_every_kind_appears(tmp_path, fmt):
    report = generate(tmp_path / f"d.{fmt}", rows=4000, seed=4, fmt=fmt, dirty_share=0.2)
    assert set(report.dirty) == set(DIRTY_KINDS)
    assert report.clean_rows + report.dirty_rows == report.rows == 4000
    assert sum(report.dirty_fields.values()) == report.dirty_rows
    assert sum(report.expected_quarantine_reasons().values()) == report.dirty_rows
    assert 0.17 < report.dirty_rows / report.rows < 0.23


def test_bad_encoding_rows_are_invalid_utf8_and_the_rest_decode(tmp_path):
    report = generate(tmp_path / "e.csv", rows=1000, seed=5, dirty_share=0.1, dirty_kinds=["bad_encoding"])
    bad = 0
    for line in (tmp_path / "e.csv").read_bytes().splitlines():
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    assert bad == report.dirty["bad_encoding"] > 0


def test_duplicates_repeat_an_earlier_line_exactly(tmp_path):
    report = generate(tmp_path / "d.csv", rows=1000, seed=6, dirty_share=0.1, dirty_kinds=["duplicate"])
    lines = (tmp_path / "d.csv").read_bytes().splitlines()[1:]
    ids = [line.split(b",", 1)[0] for line in lines]
    assert len(ids) - len(set(ids)) == report.dirty["duplicate"] > 0
    assert len(lines) - len(set(lines)) == report.dirty["duplicate"]


def test_malformed_csv_lines_are_ragged(tmp_path):
    report = generate(tmp_path / "m.csv", rows=1000, seed=7, dirty_share=0.1, dirty_kinds=["malformed_line"])
    widths = [len(line.split(b",")) for line in (tmp_path / "m.csv").read_bytes().splitlines()]
    assert sum(w != len(COLUMNS) for w in widths) == report.dirty["malformed_line"] > 0


def test_outliers_include_impossible_ages_or_negative_charges(tmp_path):
    report = generate(tmp_path / "o.csv", rows=2000, seed=8, dirty_share=0.05, dirty_kinds=["outlier"])
    with (tmp_path / "o.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    odd = [r for r in rows if not 18 <= int(r["age"]) <= 120 or float(r["monthly_charges"]) < 0
           or float(r["total_charges"]) < 0 or not 0 <= int(r["support_calls"]) <= 100
           or not 0 <= int(r["tenure_months"]) <= 600]  # fmt: skip
    assert len(odd) == report.dirty["outlier"] > 0


def test_unknown_dirty_kind_is_refused_with_the_allowed_list(tmp_path):
    with pytest.raises(GeneratorError, match="missing_field"):
        generate(tmp_path / "x.csv", rows=10, dirty_share=0.1, dirty_kinds=["typo"])


def test_cli_writes_the_file_and_prints_the_report(tmp_path):
    out = tmp_path / "cli.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "sim.data", str(out), "--rows", "300", "--format", "jsonl",
         "--dirty-share", "0.1", "--dirty-kinds", "outlier,duplicate"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed = json.loads(done.stdout)
    assert printed["rows"] == 300 == len(out.read_bytes().splitlines())
    assert set(printed["dirty"]) <= {"outlier", "duplicate"}
    assert printed["dirty_rows"] == sum(printed["dirty"].values()) > 0


def test_seed_samples_ship_verbatim():
    seed = next(SEEDS.glob("003_*.txt")).read_text() if SEEDS.exists() else None
    if seed is None:
        pytest.skip("the seeds are not on this machine")
    assert f"**sample_data.csv**:\n```\n{SAMPLE_CSV.read_text()}```" in seed
    assert f"**sample_data.json**:\n```json\n{SAMPLE_JSON.read_text()}```" in seed

"""The raw customer generator: deterministic, streamed, learnable, and honest about the dirt it injects."""

from __future__ import annotations

import csv
import datetime
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sim.data import DIRTY_KINDS, SAMPLE_CSV, SAMPLE_JSON, generate
from sim.data.customers import COLUMNS
from sim.data.generator import CHUNK_ROWS, GeneratorError

# What a clean record is, written down here independently of the generator: the dirty rows of a file are
# counted by reading it back against these rules, never by trusting the generator's own report.
PLANS = {"basic", "standard", "premium"}
INTEGER, DECIMAL, DATE = re.compile(r"-?\d+"), re.compile(r"-?\d+(\.\d+)?"), re.compile(r"\d{4}-\d{2}-\d{2}")
RANGES = {"age": (18, 120), "tenure_months": (0, 600), "monthly_charges": (0, float("inf")),
          "total_charges": (0, float("inf")), "support_calls": (0, 100)}


def _number(column: str, value: object) -> float | None:
    """The value as a number when it has the column's type (a CSV cell or a JSON value), else None."""
    integer = column in ("age", "tenure_months", "support_calls")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and not isinstance(value, str):
        return None if integer and isinstance(value, float) else float(value)
    text = str(value)
    return float(text) if (INTEGER if integer else DECIMAL).fullmatch(text) else None


def _date(value: object) -> bool:
    try:
        return bool(DATE.fullmatch(str(value))) and datetime.date.fromisoformat(str(value)) is not None
    except ValueError:
        return False


WELL_FORMED = {
    "customer_id": lambda v: bool(re.fullmatch(r"C\d{8}", str(v))),
    "signup_date": _date,
    "plan": lambda v: str(v).strip().lower() in PLANS,
    "churned": lambda v: str(v) in ("0", "1"),
}


def _defects_of_fields(record: dict[str, object]) -> list[str]:
    """'missing_field:<col>', 'bad_type:<col>' or 'outlier:<col>' for each column breaking the rules."""
    found = []
    for column in COLUMNS:
        value = record.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            found.append(f"missing_field:{column}")
        elif column in WELL_FORMED and not WELL_FORMED[column](value):
            found.append(f"bad_type:{column}")
        elif column in RANGES:
            number = _number(column, value)
            low, high = RANGES[column]
            if number is None:
                found.append(f"bad_type:{column}")
            elif not low <= number <= high:
                found.append(f"outlier:{column}")
    return found


def count_defects(path: Path, fmt: str) -> tuple[int, Counter[str]]:
    """(records read, defects by 'kind' or 'kind:column') of a written file, from its bytes alone."""
    lines = path.read_bytes().splitlines()
    if fmt == "csv":
        assert lines[0].decode() == ",".join(COLUMNS)
        lines = lines[1:]
    seen: set[bytes] = set()
    defects: Counter[str] = Counter()
    for line in lines:
        found: list[str] = []
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            found = ["bad_encoding"]
        else:
            record = None
            if fmt == "csv":
                cells = next(csv.reader([text]))
                record = dict(zip(COLUMNS, cells, strict=True)) if len(cells) == len(COLUMNS) else None
            else:
                try:
                    record = json.loads(text)
                except json.JSONDecodeError:
                    record = None
            if record is None:
                found = ["malformed_line"]
            elif line in seen:
                found = ["duplicate"]
            else:
                found = _defects_of_fields(record)
        assert len(found) <= 1, f"a dirty record carries one defect, this one {found}: {line[:200]!r}"
        defects.update(found)
        seen.add(line)
    return len(lines), defects


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
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as f:
        churned = [int(r["churned"]) for r in csv.DictReader(f)]
    assert len(churned) == 20_000
    assert 0.20 <= sum(churned) / len(churned) <= 0.30
    assert report.churn_rate == sum(churned) / len(churned)


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
def test_the_dirty_rows_counted_in_the_file_are_the_ones_reported_and_every_kind_appears(tmp_path, fmt):
    path = tmp_path / f"d.{fmt}"
    report = generate(path, rows=4000, seed=4, fmt=fmt, dirty_share=0.2)

    read, defects = count_defects(path, fmt)

    by_kind = Counter()
    for key, n in defects.items():
        by_kind[key.partition(":")[0]] += n
    assert read == 4000
    assert set(by_kind) == set(DIRTY_KINDS)
    assert 0.17 < sum(by_kind.values()) / read < 0.23
    assert dict(by_kind) == report.dirty
    assert dict(defects) == report.dirty_fields
    assert read - sum(by_kind.values()) == report.clean_rows


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
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    printed = json.loads(done.stdout)
    read, defects = count_defects(out, "jsonl")
    by_kind = Counter(key.partition(":")[0] for key in defects.elements())
    assert printed["rows"] == 300 == read
    assert set(by_kind) == {"outlier", "duplicate"}
    assert printed["dirty"] == dict(by_kind)
    assert printed["dirty_rows"] == by_kind.total() > 0


def test_seed_samples_ship_verbatim(seed_text):
    seed = seed_text("003")
    assert f"**sample_data.csv**:\n```\n{SAMPLE_CSV.read_text()}```" in seed
    assert f"**sample_data.json**:\n```json\n{SAMPLE_JSON.read_text()}```" in seed

"""Clean customer records with a churn label that a model can learn.

Values are drawn a chunk at a time with numpy (vectorised, so 10 M rows stay fast) from one seeded
`numpy.random.Generator`. The label comes from a logistic model over tenure, plan, charges, support
calls, age and city, plus noise, so a classifier can beat the base rate but not reach perfection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLUMNS: tuple[str, ...] = (
    "customer_id",
    "signup_date",
    "age",
    "city",
    "plan",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "churned",
)

# (name, share of customers, churn log-odds shift). Some names are non-ASCII on purpose: clean UTF-8
# that the ETL must keep, and the raw material of the `bad_encoding` dirty kind (latin-1 bytes).
CITIES: tuple[tuple[str, float, float], ...] = (
    ("New York", 0.16, 0.10),
    ("San Francisco", 0.10, -0.05),
    ("Chicago", 0.11, 0.05),
    ("Seattle", 0.08, -0.10),
    ("Boston", 0.08, 0.00),
    ("Austin", 0.07, -0.05),
    ("Miami", 0.07, 0.20),
    ("Denver", 0.06, -0.05),
    ("Atlanta", 0.06, 0.10),
    ("São Paulo", 0.05, 0.15),
    ("Zürich", 0.04, -0.20),
    ("Malmö", 0.04, -0.15),
    ("Kraków", 0.04, 0.05),
)
NON_ASCII_CITIES: tuple[str, ...] = tuple(c for c, _, _ in CITIES if not c.isascii())
_CITY_P = np.array([c[1] for c in CITIES]) / sum(c[1] for c in CITIES)

# (plan, share, mean monthly charge, sd, churn log-odds shift)
PLANS: tuple[tuple[str, float, float, float, float], ...] = (
    ("basic", 0.45, 30.0, 7.0, 0.45),
    ("standard", 0.35, 60.0, 10.0, 0.0),
    ("premium", 0.20, 95.0, 14.0, -0.35),
)

# Signup dates count back from a fixed day (never "today"): the same seed gives the same file forever.
REFERENCE_DAY = np.datetime64("2026-01-01", "D")
MAX_TENURE_MONTHS = 72
INTERCEPT = -1.3  # tuned so that about a quarter of customers churn (see tests/sim/data)
# Strength of the learnable signal: the true log-odds reach ROC AUC ~0.85, so a model trained on a few
# thousand rows clears the pipeline's quality gate (0.70) with margin; noise keeps it from being trivial.
SIGNAL_SCALE = 2.0
NOISE_SD = 0.3


@dataclass(frozen=True)
class CustomerChunk:
    """Column arrays of `size` clean customers, rows numbered from `first_index`."""

    first_index: int
    customer_id: list[str]
    signup_date: list[str]
    age: np.ndarray
    city: list[str]
    plan: list[str]
    tenure_months: np.ndarray
    monthly_charges: np.ndarray
    total_charges: np.ndarray
    support_calls: np.ndarray
    churned: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)


def customer_id(index: int) -> str:
    return f"C{index:08d}"


def draw_customers(rng: np.random.Generator, first_index: int, size: int) -> CustomerChunk:
    """`size` clean customers; their ids are C{first_index:08d} onwards."""
    age = np.clip(np.rint(rng.normal(42, 13, size)), 18, 90).astype(np.int64)
    city_idx = rng.choice(len(CITIES), size=size, p=_CITY_P)
    plan_idx = rng.choice(len(PLANS), size=size, p=[p[1] for p in PLANS])
    plan_mean = np.array([p[2] for p in PLANS])[plan_idx]
    plan_sd = np.array([p[3] for p in PLANS])[plan_idx]
    monthly = np.round(np.clip(rng.normal(plan_mean, plan_sd), 10.0, 200.0), 2)
    tenure = np.minimum(np.floor(rng.exponential(22, size)), MAX_TENURE_MONTHS).astype(np.int64)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.05, size), 2)
    support = rng.poisson(1.2 + 0.8 * (plan_idx == 0), size).astype(np.int64)

    signal = (
        -0.05 * tenure
        + np.array([p[4] for p in PLANS])[plan_idx]
        + 0.02 * (monthly - 55.0)
        + 0.40 * support
        - 0.015 * (age - 42)
        + np.array([c[2] for c in CITIES])[city_idx]
    )
    logit = INTERCEPT + SIGNAL_SCALE * signal + rng.normal(0, NOISE_SD, size)
    churned = (rng.uniform(size=size) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    days_back = np.rint(tenure * 30.44).astype(np.int64) + rng.integers(0, 28, size)
    signup = np.datetime_as_string(REFERENCE_DAY - days_back.astype("timedelta64[D]"), unit="D")

    return CustomerChunk(
        first_index=first_index,
        customer_id=[customer_id(first_index + i) for i in range(size)],
        signup_date=signup.tolist(),
        age=age,
        city=[CITIES[i][0] for i in city_idx],
        plan=[PLANS[i][0] for i in plan_idx],
        tenure_months=tenure,
        monthly_charges=monthly,
        total_charges=total,
        support_calls=support,
        churned=churned,
    )

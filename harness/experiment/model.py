"""The fault model: what can go wrong, drawn at random (seeded) into experiment plans.

An `ExperimentPlan` names faults against the *logical* pipeline (function key `start-databricks-job`,
job key `etl`), so one plan can be bound to any deployment prefix: that is how concurrent executions
get faults that do not collide (each concurrency slot is its own deployment, see `runner`). A plan is
data: `to_dict`/`from_dict`, saved as JSON so a regression test can load a shrunk one.

Each fault says whether it is *transient* (the pipeline's retries must absorb it: the execution still
succeeds) or *hard* (it must take the designed failure path: NotifyFailure → PipelineFailed). That
prediction is what the "designed terminal state" invariant checks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.faults import FaultPlan

# Kinds: the sim.faults kinds, plus these two.
WORKSPACE_HTTP = "workspace_http"  # the fake workspace's HTTP faults (sim.faults `databricks_http`)
DUPLICATE_DELIVERY = "duplicate_delivery"  # S3 delivers the ObjectCreated event again (the harness does it)
# Faults that cannot be scoped to one deployment: AWS API faults match (service, operation), the workspace's
# HTTP faults match a path, and every job shares the workspace's one cluster. A plan with one runs alone.
GLOBAL_KINDS = frozenset({"aws", "cluster", WORKSPACE_HTTP})

FUNCTIONS = ("validate-file", "start-databricks-job", "check-databricks-job", "send-notification")
JOBS = ("etl", "train", "evaluate")  # job key == task key in resources/jobs.yml
JOB_RETRIES = {"etl": 1, "train": 0, "evaluate": 0}  # max_retries of each job's task (resources/jobs.yml)
STATE_RETRIES = 3  # every Task state of the pipeline retries Lambda.* / Databricks* errors 3 times


@dataclass(frozen=True)
class PlannedFault:
    """One fault against the logical pipeline. `attempts` are 1-based occurrences (for workspace HTTP
    faults: which of the calls matching the pattern, for duplicate deliveries: how many extra deliveries)."""

    kind: str
    target: str
    effect: Mapping[str, Any]
    attempts: tuple[int, ...] = (1,)
    detail: str | None = None
    # True: the execution must take the failure path; False: retries must absorb it; None: either (a worker
    # kill that may land after a short task already finished).
    hard: bool | None = False
    label: str = ""

    @property
    def is_global(self) -> bool:
        return self.kind in GLOBAL_KINDS

    def with_attempts(self, attempts: tuple[int, ...]) -> PlannedFault:
        """The same fault on other attempts; whether it exceeds the retries is worked out again."""
        hard = self.hard
        if self.kind == "lambda" and "error" in self.effect:
            hard = len(attempts) > STATE_RETRIES
        elif self.kind == "databricks_task" and "slow_start_seconds" not in self.effect:
            hard = _task_fault_is_hard(self.target, self.effect, attempts)
        return replace(self, attempts=attempts, hard=hard)

    def describe(self) -> str:
        where = self.target + (f"/{self.detail}" if self.detail else "")
        effect = ", ".join(f"{k}={v}" for k, v in self.effect.items())
        outcome = {True: " (hard)", None: " (hard if it lands)"}.get(self.hard, "")
        return f"{self.kind}:{where} attempts {list(self.attempts)} → {effect}{outcome}"


def _task_fault_is_hard(job: str, effect: Mapping[str, Any], attempts: tuple[int, ...]) -> bool:
    """A failed attempt is retried up to the task's max_retries; a TIMEDOUT one only with retry_on_timeout,
    which the pipeline's jobs leave false (Jobs API default; sim/databricks/runs/retries.py agrees)."""
    return bool(effect.get("timeout")) or len(attempts) > JOB_RETRIES.get(job, 0)


@dataclass(frozen=True)
class ExperimentPlan:
    """The faults one execution flies under, and the input it flies on (rows, data seed)."""

    index: int
    faults: tuple[PlannedFault, ...] = ()
    data_seed: int = 0

    @property
    def is_global(self) -> bool:
        return any(f.is_global for f in self.faults)

    @property
    def expects_success(self) -> bool | None:
        """True / False when the plan's faults decide the outcome, None when one of them may or may not land."""
        hard = [self._shadowed(i) if f.hard else f.hard for i, f in enumerate(self.faults)]
        if any(h is True for h in hard):
            return False
        return None if any(h is None for h in hard) else True

    def _shadowed(self, index: int) -> bool | None:
        """True for a hard fault no earlier fault can pre-empt; None when an earlier fault on the same target
        takes some of its attempts (first match wins in sim.faults), so it may never land."""
        fault = self.faults[index]
        for earlier in self.faults[:index]:
            same = (earlier.kind, earlier.target, earlier.detail) == (fault.kind, fault.target, fault.detail)
            if same and set(earlier.attempts) & set(fault.attempts):
                return None
        return True

    @property
    def deliveries(self) -> int:
        """Extra deliveries of the S3 event (0: delivered once, as usual)."""
        return sum(len(f.attempts) for f in self.faults if f.kind == DUPLICATE_DELIVERY)

    def with_faults(self, faults: tuple[PlannedFault, ...]) -> ExperimentPlan:
        return replace(self, faults=faults)

    # --- binding to a deployment -------------------------------------------------------------------
    def fault_plan(self, prefix: str, seed: int = 0) -> FaultPlan:
        """The sim.faults plan of this plan's simulator faults, names bound to the deployment `prefix`."""
        plan = FaultPlan(seed=seed)
        for fault in self.faults:
            label = f"plan {self.index}: {fault.label or fault.kind}"
            if fault.kind == "lambda":
                plan.add("lambda", f"{prefix}stepbricks-{fault.target}", attempts=fault.attempts, label=label,
                         **fault.effect)
            elif fault.kind == "aws":
                plan.add("aws", fault.target, detail=fault.detail, attempts=fault.attempts, label=label,
                         **fault.effect)
            elif fault.kind in ("databricks_task", "cluster"):
                plan.add(fault.kind, f"{prefix}stepbricks-{fault.target}", detail=fault.detail or fault.target,
                         attempts=fault.attempts, label=label, **fault.effect)
            elif fault.kind == WORKSPACE_HTTP:  # a path pattern: not bound to the prefix (a global kind)
                plan.add("databricks_http", fault.target, attempts=fault.attempts, label=label, **fault.effect)
        return plan

    # --- serialising -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "data_seed": self.data_seed,
            "faults": [{**asdict(f), "attempts": list(f.attempts), "effect": dict(f.effect)} for f in self.faults],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentPlan:
        faults = tuple(
            PlannedFault(**{**f, "attempts": tuple(f.get("attempts", (1,))), "effect": dict(f["effect"])})
            for f in data.get("faults", [])
        )
        return cls(index=int(data.get("index", 0)), faults=faults, data_seed=int(data.get("data_seed", 0)))

    def save(self, path: Path, **extra: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**self.to_dict(), **extra}, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | str) -> ExperimentPlan:
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass
class FaultModel:
    """Draws plans: 0-3 faults each from the catalogue below, weights per kind (`weights`).

    The catalogue keeps transient faults inside the retry budgets the pipeline declares (3 state
    retries, the Lambdas' own 4 HTTP attempts, boto3's retries, the ETL task's 1 retry) and marks the
    faults that exceed them, or are not retried by design (a Lambda timeout), as hard."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "lambda_error": 3,
            "lambda_timeout": 1,
            "lambda_delay": 1,
            "s3_5xx": 1,
            "throttling": 1,
            "task_failure": 2,
            "slow_cluster": 1,
            "kill_worker": 1,
            "workspace_429": 1,
            "duplicate_delivery": 2,
        }
    )
    max_faults: int = 3

    def draw(self, rng: random.Random, index: int) -> ExperimentPlan:
        count = rng.choices(range(self.max_faults + 1), weights=[1, 4, 3, 2][: self.max_faults + 1])[0]
        names = sorted(self.weights)
        faults = []
        for _ in range(count):
            kind = rng.choices(names, weights=[self.weights[n] for n in names])[0]
            faults.append(getattr(self, f"_{kind}")(rng))
        return ExperimentPlan(index=index, faults=tuple(faults), data_seed=rng.randrange(1 << 30))

    def draw_many(self, seed: int, count: int) -> list[ExperimentPlan]:
        """`count` plans from `seed`: the same seed always gives the same plans."""
        rng = random.Random(seed)
        return [self.draw(rng, i) for i in range(count)]

    # --- the catalogue -----------------------------------------------------------------------------
    @staticmethod
    def _lambda_error(rng: random.Random) -> PlannedFault:
        function = rng.choice(FUNCTIONS)
        error = rng.choice(["Lambda.ServiceException", "Lambda.TooManyRequestsException"])
        first = rng.randint(1, 3) if function == "check-databricks-job" else 1
        # Notifications only transiently: past the retry budget there is, by design, nothing left to tell.
        exhaust = function != "send-notification" and rng.random() < 0.25
        count = STATE_RETRIES + 1 if exhaust else rng.randint(1, STATE_RETRIES)
        return PlannedFault("lambda", function, {"error": error}, tuple(range(first, first + count)), hard=exhaust,
                            label="Lambda throttled" if "TooMany" in error else "Lambda error")

    @staticmethod
    def _lambda_timeout(rng: random.Random) -> PlannedFault:
        # Sandbox.Timedout is not in any Retry's ErrorEquals: the Catch takes it to NotifyFailure.
        function = rng.choice(FUNCTIONS[:3])
        return PlannedFault("lambda", function, {"timeout": True}, (1,), hard=True, label="Lambda timeout")

    @staticmethod
    def _lambda_delay(rng: random.Random) -> PlannedFault:
        function = rng.choice(FUNCTIONS)
        return PlannedFault("lambda", function, {"delay_seconds": rng.choice([5, 20, 45])}, (1,),
                            label="slow Lambda start")

    @staticmethod
    def _s3_5xx(rng: random.Random) -> PlannedFault:
        operation = rng.choice(["GetObject", "PutObject", "HeadObject"])
        effect = rng.choice([{"error": "SlowDown", "status": 503}, {"error": "InternalError", "status": 500}])
        return PlannedFault("aws", "s3", effect, tuple(range(1, rng.randint(1, 2) + 1)), detail=operation,
                            label="S3 5xx")

    @staticmethod
    def _throttling(rng: random.Random) -> PlannedFault:
        service, operation = rng.choice([("sns", "Publish"), ("secretsmanager", "GetSecretValue"),
                                         ("states", "StartExecution")])
        return PlannedFault("aws", service, {"throttle": True}, (1,), detail=operation, label="API throttling")

    @staticmethod
    def _task_failure(rng: random.Random) -> PlannedFault:
        job = rng.choice(JOBS)
        effect = rng.choice([{"result_state": "FAILED"}, {"internal_error": True}, {"timeout": True}])
        attempts = tuple(range(1, rng.randint(1, 2) + 1))
        return PlannedFault("databricks_task", job, effect, attempts, detail=job,
                            hard=_task_fault_is_hard(job, effect, attempts), label="Databricks task failure")

    @staticmethod
    def _slow_cluster(rng: random.Random) -> PlannedFault:
        job = rng.choice(JOBS)
        return PlannedFault("databricks_task", job, {"slow_start_seconds": rng.choice([60, 300, 900])}, (1,),
                            detail=job, label="slow cluster start")

    @staticmethod
    def _kill_worker(rng: random.Random) -> PlannedFault:
        job = rng.choice(JOBS)
        # Retried for the ETL; for train/evaluate the kill fails the run only if it lands before the task ends.
        return PlannedFault("cluster", job, {"kill_worker": True}, (1,), detail=job,
                            hard=None if JOB_RETRIES[job] == 0 else False, label="worker killed mid-task")

    @staticmethod
    def _workspace_429(rng: random.Random) -> PlannedFault:
        pattern = rng.choice(["POST /api/2.*/jobs/run-now", "GET /api/2.*/jobs/runs/get"])
        status = rng.choice([429, 503])
        effect: dict[str, Any] = {"status_code": status, "retry_after": 0}
        if pattern.startswith("POST") and status == 503 and rng.random() < 0.5:
            effect["after_handler"] = True  # the run started, the client saw a 503: the double-submit fault
        return PlannedFault(WORKSPACE_HTTP, pattern, effect, tuple(range(1, rng.randint(1, 3) + 1)),
                            label=f"workspace {status}")

    @staticmethod
    def _duplicate_delivery(rng: random.Random) -> PlannedFault:
        return PlannedFault(DUPLICATE_DELIVERY, "s3-event", {"redeliver": True}, tuple(range(1, rng.randint(1, 2) + 1)),
                            label="S3 event delivered again")

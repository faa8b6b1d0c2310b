"""Runs experiment plans against the deployed pipeline, concurrently, and judges each one.

Fault plans are process-global (`sim.faults.activate`), so concurrency is arranged to keep one plan's
faults off another's execution:
- each concurrency *slot* is its own deployment (prefix `""`, `x1-`, `x2-`…): own Lambdas, jobs, state
  machines and buckets, so a Lambda / Databricks-task fault bound to a slot's names hits only its
  execution, and occurrences ("attempts 1-2") count that execution's calls alone;
- a *batch* runs one plan per slot under the union of their bound plans; a plan with a fault that
  cannot be scoped to one deployment (`model.GLOBAL_KINDS`: AWS API faults, workspace HTTP faults, the
  shared cluster's worker) runs in a batch of its own.
So verdicts do not depend on scheduling: same seed ⇒ same plans ⇒ same verdicts.

Slots can also each bring a simulator of their own (`simulator_slots`, what `stepbricks experiment` does):
own clock, fault plan, AWS account, workspace and cluster. Nothing a plan does can then reach another slot,
so there are no batches: each slot flies the next plan as soon as its last one is judged. This is what makes
concurrency pay: one simulator has one virtual clock, which skips a wait only when every actor waits, so a
plan waiting on its 30 s poll waited in real time while the other slot's plan computed, and the two flights
took turns rather than overlapping (200 plans, seed 7, one simulator: 71% of 2 cores busy, a batch of two
plans 8.5 s against 4.9 s for one plan alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.clients import aws_client
from harness.deploy import DeployConfig, Deployment, deploy, set_trigger_target
from harness.experiment import invariants as inv
from harness.experiment.model import ExperimentPlan
from harness.experiment.observe import (
    Clients,
    Observation,
    Snapshot,
    active_runs,
    batch_evidence,
    executions_for,
    notifications_for,
    runs_for_input,
    runs_naming,
    traces_of,
)
from harness.follow import TERMINAL
from sim import context as sim_context
from sim.data.generator import generate
from sim.faults import FaultPlan, activate

# Writes one execution's input file and says what the pipeline should make of it: {"rows", "clean_rows"}
# for data, or {"rejected": True} for a file the pipeline must turn away on its invalid path.
InputMaker = Callable[[Path, ExperimentPlan, "ExperimentConfig"], dict]


def generated_input(path: Path, plan: ExperimentPlan, config: ExperimentConfig) -> dict:
    """Customer data from the seeded generator, which knows exactly how many rows are clean."""
    report = generate(path, rows=config.rows, seed=plan.data_seed, fmt="csv", dirty_share=config.dirty_share)
    return {"rows": report.rows, "clean_rows": report.clean_rows}


@dataclass(frozen=True)
class ExperimentConfig:
    rows: int = 1000
    dirty_share: float = 0.02
    concurrency: int = 2
    poll_seconds: int = 30
    timeout: float = 900.0  # wall seconds one execution may take before the run is called stuck
    invariants: tuple[str, ...] | None = None  # None: every registered invariant
    make_input: InputMaker = generated_input


@dataclass
class Verdict:
    """One plan's outcome: what was injected, how the execution ended, which invariants broke."""

    plan: ExperimentPlan
    key: str = ""
    execution_arns: list[str] = field(default_factory=list)
    status: str = ""
    applied: list[dict] = field(default_factory=list)  # faults actually applied (sim.faults records)
    violations: dict[str, list[str]] = field(default_factory=dict)  # invariant -> messages (non-empty only)
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0
    observation: Observation | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def signature(self) -> tuple[str, ...]:
        """What the verdict says, independent of timing and names: compared across identical runs."""
        return (self.status, *sorted(self.violations))

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "key": self.key, "executions": self.execution_arns,
                "status": self.status, "applied": self.applied, "violations": self.violations,
                "wall_seconds": round(self.wall_seconds, 2), "virtual_seconds": round(self.virtual_seconds, 2)}


@dataclass
class Slot:
    index: int
    deployment: Deployment
    sim: Any = None  # a simulator of its own (`simulator_slots`); None: the runner's
    env: dict[str, str] | None = None  # that simulator's environment

    @property
    def prefix(self) -> str:
        return self.deployment.config.prefix


def slot_prefix(index: int) -> str:
    return "" if index == 0 else f"x{index}-"


def prepare_slots(env: Mapping[str, str], count: int, *, poll_seconds: int = 30,
                  prefixes: list[str] | None = None) -> list[Slot]:
    """One deployment per slot (idempotent: deploying again updates in place). Slot 0 is the default,
    unprefixed deployment; each slot's training logs to its own MLflow experiment and artifact bucket
    (the jobs' `resource_prefix` parameter)."""
    slots = []
    for index, prefix in enumerate(prefixes or [slot_prefix(i) for i in range(count)]):
        deployment = deploy(env, DeployConfig(prefix=prefix, poll_seconds=poll_seconds))
        set_trigger_target(env, deployment, "polling")
        slots.append(Slot(index, deployment))
    return slots


def simulator_slots(stack: contextlib.ExitStack, count: int, *, poll_seconds: int = 30,
                    **simulator_options: Any) -> list[Slot]:
    """`count` slots, each the default deployment on a simulator of its own (`Simulator.start(**options)`,
    stopped when `stack` closes). Each costs a simulator's servers and, once a plan reaches Databricks, a
    cluster worker (a JVM and its Python, ~900 MB)."""
    from sim.simulator import Simulator

    slots = []
    for index in range(count):
        sim = stack.enter_context(Simulator.start(**simulator_options))
        env = {**os.environ, **sim.env}
        (slot,) = prepare_slots(env, 1, poll_seconds=poll_seconds)
        slots.append(Slot(index, slot.deployment, sim=sim, env=env))
    return slots


def batches(plans: list[ExperimentPlan], width: int) -> list[list[ExperimentPlan]]:
    """Plans in order, grouped `width` at a time; a plan with unscopable faults runs alone."""
    out: list[list[ExperimentPlan]] = []
    current: list[ExperimentPlan] = []
    for plan in plans:
        if plan.is_global:
            out.append([plan])
            continue
        current.append(plan)
        if len(current) == width:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


class Runner:
    """Flies plans on running simulators (`sim`: sim.simulator.Simulator, with `env` its environment) and
    their deployments: `sim` for every slot that does not bring its own (`Slot.sim`)."""

    def __init__(self, sim: Any, env: Mapping[str, str], slots: list[Slot], config: ExperimentConfig,
                 *, workdir: Path | None = None, tag: str = "exp") -> None:
        self.sim, self.env, self.slots, self.config = sim, dict(env), slots, config
        if 1 < len(self.simulators()) < len(slots):  # one combined plan per simulator would need batching per simulator
            raise ValueError("experiment slots either all fly on one simulator or each on a simulator of its own")
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="stepbricks-exp-"))
        if workdir is None:  # ours: removed with the runner (or at exit), like tempfile.TemporaryDirectory
            weakref.finalize(self, shutil.rmtree, self.workdir, ignore_errors=True)
        # Input keys are unique per runner: another runner (or an earlier experiment) in the same deployment
        # must never have uploaded the same key, or its execution would count as this input's.
        self.tag = f"{tag}-{uuid.uuid4().hex[:8]}"
        self._runs = 0
        self._lock = threading.Lock()
        self._clients: dict[int, Clients] = {}  # id(simulator) -> the judge's clients of it

    def simulators(self) -> list[Any]:
        """Every simulator the slots fly on, each once."""
        found: dict[int, Any] = {}
        for slot in self.slots:
            sim = self._sim(slot)
            found.setdefault(id(sim), sim)
        return list(found.values())

    def _independent(self) -> bool:
        """Every slot on a simulator of its own (the constructor allows no mix)."""
        return len(self.simulators()) > 1

    def _sim(self, slot: Slot) -> Any:
        return slot.sim if slot.sim is not None else self.sim

    def _env(self, slot: Slot) -> dict[str, str]:
        return slot.env if slot.env is not None else self.env

    def run(self, plans: list[ExperimentPlan], *, on_verdict: Callable[[Verdict], None] = lambda _v: None
            ) -> list[Verdict]:
        verdicts: dict[int, Verdict] = {}
        if self._independent():
            self._run_independently(plans, verdicts, on_verdict)
        else:
            for batch in batches(plans, len(self.slots)):
                for verdict in self.run_batch(batch):
                    verdicts[id(verdict.plan)] = verdict
                    on_verdict(verdict)
        return [verdicts[id(p)] for p in plans]

    def _run_independently(self, plans: list[ExperimentPlan], verdicts: dict[int, Verdict],
                           on_verdict: Callable[[Verdict], None]) -> None:
        """Slots on simulators of their own: each takes the next plan, in order, when its last is judged."""
        queue = list(reversed(plans))
        lock = threading.Lock()

        def fly_from(slot: Slot) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    plan = queue.pop()
                verdict = self._run_on(slot, plan)
                with lock:
                    verdicts[id(plan)] = verdict
                    on_verdict(verdict)

        with ThreadPoolExecutor(max_workers=len(self.slots), thread_name_prefix="experiment") as pool:
            for done in [pool.submit(fly_from, slot) for slot in self.slots]:
                done.result()

    def run_one(self, plan: ExperimentPlan) -> Verdict:
        return self.run_batch([plan])[0]

    def _run_on(self, slot: Slot, plan: ExperimentPlan) -> Verdict:
        """One plan on one slot, under its faults alone, in that slot's simulator."""
        bound = plan.fault_plan(slot.prefix)
        with sim_context.bind(self._sim(slot).context):
            previous = activate(bound)
        try:
            verdict = self._fly_bound(slot, plan)
        finally:
            with sim_context.bind(self._sim(slot).context):
                activate(previous)
        self._record_applied([verdict], bound)
        return verdict

    def run_batch(self, batch: list[ExperimentPlan]) -> list[Verdict]:
        assert len(batch) <= len(self.slots), "a batch has at most one plan per slot"
        pairs = list(zip(self.slots, batch, strict=False))
        if self._independent():  # slots on simulators of their own share no fault plan
            with ThreadPoolExecutor(max_workers=len(pairs), thread_name_prefix="experiment") as pool:
                return list(pool.map(lambda sp: self._run_on(*sp), pairs))
        (sim,) = self.simulators()
        combined = FaultPlan(seed=0)
        for slot, plan in pairs:
            combined.faults.extend(plan.fault_plan(slot.prefix).faults)
        # Installed in this simulator's context, not the calling thread's: a test thread unbound works for
        # the newest simulator of the process, which need not be this one. The workspace's HTTP faults are
        # included: it consults the same plan.
        with sim_context.bind(sim.context):
            previous = activate(combined)
        try:
            with ThreadPoolExecutor(max_workers=len(pairs), thread_name_prefix="experiment") as pool:
                verdicts = list(pool.map(lambda sp: self._fly_bound(*sp), pairs))
        finally:
            with sim_context.bind(sim.context):
                activate(previous)
        self._record_applied(verdicts, combined)
        return verdicts

    @staticmethod
    def _record_applied(verdicts: list[Verdict], combined: FaultPlan) -> None:
        for verdict in verdicts:
            tag = f"plan {verdict.plan.index}"
            verdict.applied = [
                {"target": a.target, "occurrence": a.occurrence, "effect": dict(a.effect), "at": a.at}
                for a in combined.applied if a.label.split(":")[0] == tag
            ]
            verdict.applied += [{"target": "s3-event", "occurrence": n + 2, "effect": {"redeliver": True}}
                                for n in range(verdict.plan.deliveries)]

    # --- one execution -----------------------------------------------------------------------------
    def _fly_bound(self, slot: Slot, plan: ExperimentPlan) -> Verdict:
        """`_fly` in a pool thread working for this simulator (pool threads start unbound)."""
        with sim_context.bind(self._sim(slot).context):
            return self._fly(slot, plan)

    def _fly(self, slot: Slot, plan: ExperimentPlan) -> Verdict:
        """Fly and judge; a flight the harness could not complete is a verdict too, not the end of the run."""
        started = time.monotonic()
        try:
            return self._fly_and_judge(slot, plan)
        except Exception as exc:  # recorded under its own name: never counted as the pipeline passing
            return Verdict(plan=plan, status="NOT_JUDGED", wall_seconds=time.monotonic() - started,
                           violations={"flight_completed": [f"{type(exc).__name__}: {exc}"]})

    def _fly_and_judge(self, slot: Slot, plan: ExperimentPlan) -> Verdict:
        sim, env = self._sim(slot), self._env(slot)
        started, virtual_start = time.monotonic(), sim.clock.now()
        with self._lock:
            self._runs += 1
            run_number = self._runs
        name = f"{self.tag}-{plan.index:04d}-r{run_number}.csv"
        path = self.workdir / name
        expected = self.config.make_input(path, plan, self.config)
        d = slot.deployment
        bucket, key = d.buckets["raw"], f"incoming/{name}"
        aws_client("s3", env).upload_file(str(path), bucket, key)
        path.unlink(missing_ok=True)
        self._redeliver(bucket, key, plan.deliveries, slot)
        arns = self.settle(d.state_machines["polling"], bucket, key, slot)
        verdict = Verdict(plan=plan, key=key, execution_arns=arns)
        obs = self.observe(slot, plan, key, expected, since_ms=int(virtual_start * 1000))
        verdict.observation = obs
        verdict.status = ",".join(sorted({t.status for t in obs.traces})) or "NO_EXECUTION"
        verdict.violations = {k: v for k, v in inv.check_all(obs, self.config.invariants).items() if v}
        verdict.wall_seconds = time.monotonic() - started
        verdict.virtual_seconds = sim.clock.now() - virtual_start
        return verdict

    def _redeliver(self, bucket: str, key: str, times: int, slot: Slot) -> None:
        """Send the S3 notification for this object again, `times` times, exactly as S3 built it."""
        if not times:
            return
        sim = self._sim(slot)
        deadline = time.monotonic() + 60
        delivery = None
        while delivery is None and time.monotonic() < deadline:
            delivery = next((x for x in sim.aws.s3_deliveries(bucket) if x.key == key), None)
            if delivery is None:
                time.sleep(0.1)
        if delivery is None:
            raise RuntimeError(f"S3 never notified the trigger about s3://{bucket}/{key}")
        lam = aws_client("lambda", self._env(slot))
        for _ in range(times):
            lam.invoke(FunctionName=delivery.function_arn, InvocationType="Event",
                       Payload=json.dumps(delivery.event).encode())

    def settle(self, sm_arn: str, bucket: str, key: str, slot: Slot | None = None) -> list[str]:
        """Wait for the upload's executions to start and end (every one a trigger started).

        Only a trigger's Event invocation starts an execution, so a listing taken once every one of them has
        settled is final: after it only the known executions' statuses are polled. Listing every execution of
        the state machine at each poll grew with the executions started so far: a 100-file load listed all
        100 five times a second while it waited for each file in turn."""
        sim, env = (self._sim(slot), self._env(slot)) if slot is not None else (self.sim, self.env)
        sfn = aws_client("stepfunctions", env)
        deadline = time.monotonic() + self.config.timeout
        arns: list[str] = []
        final = False
        while time.monotonic() < deadline:
            if not final or not arns:  # nothing found yet: keep looking, as before
                # Every Event invocation settled (S3's own and our redeliveries), else a late duplicate is missed.
                quiet = sim.aws.wait_for_async(1.0)
                quiet = quiet and all(d.done for d in sim.aws.s3_deliveries(bucket) if d.key == key)
                arns = executions_for(env, sm_arn, bucket, key, sfn=sfn)
                final = quiet
            statuses = [sfn.describe_execution(executionArn=a)["status"] for a in arns]
            if arns and final and all(s in TERMINAL for s in statuses):
                return arns
            time.sleep(0.2)
        return arns

    def observe(self, slot: Slot, plan: ExperimentPlan, key: str, expected: Mapping[str, Any],
                since_ms: int | None = None, *, snapshot: Snapshot | None = None) -> Observation:
        """What the flight of `key` left behind. `since_ms` (simulator clock, before the upload) bounds the
        runs read to those started after it: reading every run of each job made an experiment's judging
        grow with the square of its plans. `snapshot` (`take_snapshot` after every flight ended): what a
        load's inputs share, read once instead of once per input."""
        d, env, c = slot.deployment, self._env(slot), self.clients(slot)
        bucket = d.buckets["raw"]
        input_uri = f"s3://{bucket}/{key}"
        definition = json.loads(c.sfn.describe_state_machine(stateMachineArn=d.state_machines["polling"])["definition"])
        arns = executions_for(env, d.state_machines["polling"], bucket, key, sfn=c.sfn,
                              listed=snapshot.executions if snapshot else None)
        obs = Observation(input_uri=input_uri, key=key, expected=expected, expects_success=plan.expects_success,
                          definition=definition, traces=traces_of(env, arns, sfn=c.sfn))
        batches = snapshot.batches if snapshot else None
        manifest, _ids, _ = batch_evidence(env, d.buckets["processed"], source_uri=input_uri, ids=False, s3=c.s3,
                                           listed=batches)
        batch_uri = manifest["output_uri"] if manifest else None
        if snapshot is not None and active_runs(runs_naming(snapshot.runs, input_uri, batch_uri)):
            batches = None  # one of its runs was still writing when the batches were listed
        obs.runs_by_job, obs.unsettled_runs = runs_for_input(
            env, d.jobs, input_uri, batch_uri, since_ms=since_ms, known_runs=snapshot.runs if snapshot else None,
            client=c.workspace)
        # Re-read after the runs settled: a run still writing at first sight has finished (or not) now.
        obs.manifest, obs.written_ids, obs.incomplete_batches = batch_evidence(
            env, d.buckets["processed"], source_uri=input_uri, s3=c.s3, listed=batches)
        obs.notifications = notifications_for(self._sim(slot).aws.sns_messages(d.topic_arn), key)
        return obs

    def clients(self, slot: Slot) -> Clients:
        """The judge's clients of the slot's simulator (boto3's and databricks-sdk's are thread-safe)."""
        with self._lock:
            return self._clients.setdefault(id(self._sim(slot)), Clients(self._env(slot)))

"""The pipeline's invariants, as a registry a user's pipeline can extend with `@invariant("name")`.

An invariant is a function `Observation -> list[str]`: each string is one violation, said as what went
wrong. The built-ins below are the reference pipeline's promises; a user module adds its own with the
decorator (or `register`) and passes the module to `stepbricks experiment` through the
`stepbricks.invariants` entry point group, which `load_entry_points()` imports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

from harness.experiment.observe import Observation

Check = Callable[[Observation], list[str]]
_REGISTRY: dict[str, Check] = {}
ENTRY_POINT_GROUP = "stepbricks.invariants"


def invariant(name: str) -> Callable[[Check], Check]:
    """Decorator: register `fn` as the invariant `name` (a later registration of the name replaces it)."""

    def register_it(fn: Check) -> Check:
        register(name, fn)
        return fn

    return register_it


def register(name: str, fn: Check) -> None:
    _REGISTRY[name] = fn


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> dict[str, Check]:
    return dict(_REGISTRY)


def load_entry_points() -> list[str]:
    """Import every module named in the `stepbricks.invariants` entry point group (they register on import)."""
    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()
        loaded.append(ep.name)
    return loaded


def check_all(observation: Observation, names: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Every registered (or named) invariant's violations; an invariant that raises is itself a violation."""
    results = {}
    for name, fn in _REGISTRY.items():
        if names is not None and name not in names:
            continue
        try:
            results[name] = list(fn(observation))
        except Exception as exc:  # a broken check must show up, not end the experiment
            results[name] = [f"the check raised {type(exc).__name__}: {exc}"]
    return results


# --- the reference pipeline's invariants ----------------------------------------------------------


def _ends(definition: dict) -> tuple[set[str], set[str]]:
    """(names of Succeed states, errors of Fail states): the terminal states the definition designs."""
    states = definition.get("States", {})
    succeed = {n for n, s in states.items() if s.get("Type") == "Succeed"}
    fail_errors = {s.get("Error") for s in states.values() if s.get("Type") == "Fail"}
    return succeed, {e for e in fail_errors if e}


@invariant("one_execution_per_input")
def one_execution_per_input(obs: Observation) -> list[str]:
    if len(obs.traces) != 1:
        return [f"{obs.key}: {len(obs.traces)} executions started for one upload (expected exactly 1)"]
    return []


@invariant("designed_terminal_state")
def designed_terminal_state(obs: Observation) -> list[str]:
    """Ends in a Succeed or Fail state of the definition, and the one the plan predicts (success unless a
    fault exceeds the retries that should absorb it)."""
    problems = []
    succeed, fail_errors = _ends(dict(obs.definition))
    for trace in obs.traces:
        name = trace.execution_arn.rsplit(":", 1)[-1]
        if trace.status == "SUCCEEDED":
            last = trace.visits[-1].name if trace.visits else None
            if last not in succeed:
                problems.append(f"{name}: SUCCEEDED but its last state {last!r} is not a Succeed state")
        elif trace.status == "FAILED":
            if trace.error not in fail_errors:
                problems.append(f"{name}: FAILED with {trace.error!r}, not through a Fail state "
                                f"({', '.join(sorted(fail_errors))}): {(trace.cause or '')[:200]}")
        else:
            problems.append(f"{name}: ended {trace.status}, which no state of the definition leads to")
        if obs.expected.get("rejected"):
            if trace.status != "FAILED" or (obs.expects_success is True and trace.error != "InputRejected"):
                problems.append(f"{name}: an invalid input ended {trace.status} ({trace.error}), not rejected")
            continue
        if obs.expects_success is True and trace.status != "SUCCEEDED":
            problems.append(f"{name}: every fault was within the retries, yet it ended {trace.status} "
                            f"({trace.error}: {(trace.cause or '')[:200]})")
        if obs.expects_success is False and trace.status == "SUCCEEDED":
            problems.append(f"{name}: a fault past the retry budget was injected, yet it SUCCEEDED")
    return problems


@invariant("rows_conserved")
def rows_conserved(obs: Observation) -> list[str]:
    """rows in = written + quarantined, as the generator promised, and no customer written twice."""
    m = obs.manifest
    succeeded = any(t.status == "SUCCEEDED" for t in obs.traces)
    if m is None:
        return [f"{obs.key}: the execution succeeded but no committed batch names the input"] if succeeded else []
    problems = []
    exp = obs.expected
    if m["rows_in"] != m["rows_written"] + m["rows_quarantined"]:
        problems.append(f"{obs.key}: rows in {m['rows_in']} != written {m['rows_written']} + quarantined "
                        f"{m['rows_quarantined']}")
    if "rows" in exp and (m["rows_in"], m["rows_written"]) != (exp["rows"], exp["clean_rows"]):
        problems.append(f"{obs.key}: manifest says {m['rows_in']} in / {m['rows_written']} written, the input "
                        f"had {exp['rows']} rows of which {exp['clean_rows']} clean")
    if len(obs.written_ids) != m["rows_written"]:
        problems.append(f"{obs.key}: the batch's files hold {len(obs.written_ids)} rows, its manifest says "
                        f"{m['rows_written']}")
    twice = [i for i, n in Counter(obs.written_ids).items() if n > 1]
    if twice:
        problems.append(f"{obs.key}: {len(twice)} customers written more than once (e.g. {twice[:3]})")
    return problems


@invariant("one_run_per_job")
def one_run_per_job(obs: Observation) -> list[str]:
    """At most one Databricks run per job per execution: idempotency holds under retries."""
    allowed = 1
    return [f"{obs.key}: {len(runs)} runs of job {job} (run ids {[r['run_id'] for r in runs]}), at most "
            f"{allowed} allowed" for job, runs in obs.runs_by_job.items() if len(runs) > allowed]


@invariant("one_true_notification")
def one_true_notification(obs: Observation) -> list[str]:
    """Exactly one notification per input, and its subject tells the outcome the execution really had."""
    if len(obs.notifications) != 1:
        subjects = [n.get("subject") or n.get("Subject") for n in obs.notifications]
        return [f"{obs.key}: {len(obs.notifications)} notifications (expected exactly 1): {subjects}"]
    subject = str(obs.notifications[0].get("subject") or obs.notifications[0].get("Subject") or "")
    trace = obs.trace
    if trace is None:
        return [f"{obs.key}: a notification ({subject!r}) but no execution"]
    says_success = "Succeeded" in subject
    if says_success != (trace.status == "SUCCEEDED"):
        return [f"{obs.key}: the notification says {subject!r} but the execution {trace.status}"]
    return []


@invariant("nothing_orphaned_or_half_written")
def nothing_orphaned_or_half_written(obs: Observation) -> list[str]:
    """Every run settles and is one an execution knows of, every run an execution names is one of this input's;
    no output directory lacks its manifest."""
    problems = []
    if obs.unsettled_runs:
        problems.append(f"{obs.key}: runs {obs.unsettled_runs} still active after the executions ended")
    known = {run_id for trace in obs.traces for run_id in _run_ids(trace)}
    found = {run["run_id"] for runs in obs.runs_by_job.values() for run in runs}
    for job, runs in obs.runs_by_job.items():
        for run in runs:
            if run["run_id"] not in known:
                problems.append(f"{obs.key}: run {run['run_id']} of job {job} is in no execution's history")
    # A run the history names that the workspace does not list for this input: started for another input's
    # data, or gone (deleted, lost), or evidence the judge failed to read.
    problems.extend(f"{obs.key}: run {run_id} named in an execution's history is not a run of this input"
                    for run_id in sorted(known - found))
    problems.extend(f"{d}: data without its {'_manifest.json'} (half-written output)" for d in obs.incomplete_batches)
    return problems


def _run_ids(trace: object) -> set[int]:
    from harness.map_results import walk

    ids = set()
    for visit in getattr(trace, "visits", []):
        for value in walk(visit.output):
            if isinstance(value, dict) and {"run_id", "job_id"} <= value.keys():
                ids.add(int(value["run_id"]))
    return ids

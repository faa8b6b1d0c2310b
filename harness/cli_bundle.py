"""`stepbricks bundle validate|deploy|run|destroy|promote` and `stepbricks approve`.

Register in `harness.cli`:
    from harness.cli_bundle import approve, bundle_app
    app.add_typer(bundle_app, name="bundle")
    app.command("approve")(approve)

Like the Databricks CLI, the bundle root is the nearest folder upward holding `databricks.yml`,
`--var name=value` may repeat, and `BUNDLE_VAR_<name>` is read from the environment. Exit codes:
0 success, 1 failure (bundle error, failed run, failed QA tests), 3 promotion awaiting approval.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

bundle_app = typer.Typer(help="Databricks Asset Bundles: validate, deploy, run, destroy and promote `databricks.yml`.",
                         no_args_is_help=True)  # fmt: skip
console = Console(stderr=True)
AWAITING_APPROVAL_EXIT = 3

Target = Annotated[str | None, typer.Option("--target", "-t", help="Target of databricks.yml (default: the default one).")]
Vars = Annotated[list[str] | None, typer.Option("--var", help="name=value; overrides BUNDLE_VAR_<name> and the target's value.")]
Root = Annotated[Path | None, typer.Option("--root", help="Bundle root (default: nearest folder up with databricks.yml).")]
StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Deployment state (default: <root>/.stepbricks/bundles).")]


def _root(root: Path | None) -> Path:
    if root is not None:
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "databricks.yml").exists():
            return folder
    console.print(f"[red]Error:[/red] no databricks.yml in {here} or any parent folder (pass --root)")
    raise typer.Exit(1)


def _vars(pairs: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            console.print(f"[red]Error:[/red] --var {pair!r}: expected name=value")
            raise typer.Exit(1)
        values[name] = value
    return values


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]Error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@bundle_app.command()
def validate(target: Target = None, var: Vars = None, root: Root = None,
             output: Annotated[str, typer.Option(help="text | json")] = "text") -> None:  # fmt: skip
    """Read and check the bundle offline; print the resolved jobs (no workspace is contacted)."""
    from harness.bundles import BundleError, load_bundle
    from harness.bundles import validate as check
    from harness.bundles.operations import _workspace_paths

    try:
        bundle = load_bundle(_root(root), target=target, variables=_vars(var))
        check(bundle)
    except BundleError as exc:
        raise _fail(exc) from None
    summary = {"name": bundle.name, "target": bundle.target.name, "mode": bundle.target.mode,
               "root_path": bundle.root_path, "variables": bundle.variables,
               "jobs": {k: _workspace_paths(j.settings, bundle) for k, j in bundle.jobs.items()}}  # fmt: skip
    if output == "json":
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    typer.echo(f"Name: {bundle.name}\nTarget: {bundle.target.name}\nMode: {bundle.target.mode or '-'}\n"
               f"Workspace root: {bundle.root_path}\nJobs: {', '.join(bundle.jobs)}\n\nValidation OK!")  # fmt: skip


@bundle_app.command()
def deploy(target: Target = None, var: Vars = None, root: Root = None, state_dir: StateDir = None) -> None:
    """Upload the bundle's notebooks and create or reset its jobs by key in the target's workspace."""
    from harness.bundles import BundleError, open_target
    from harness.bundles import deploy as do_deploy

    try:
        result = do_deploy(open_target(_root(root), target, variables=_vars(var), state_root=state_dir))
    except BundleError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(result.__dict__, indent=2))


@bundle_app.command()
def run(key: Annotated[str, typer.Argument(help="Job key (resources.jobs.<key>).")], target: Target = None,
        var: Vars = None, root: Root = None, state_dir: StateDir = None,
        param: Annotated[list[str] | None, typer.Option("--param", help="Job parameter name=value.")] = None,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for the run.")] = 3600) -> None:  # fmt: skip
    """Run a deployed job by key and wait for it; exit 1 unless it succeeded."""
    from harness.bundles import BundleError, open_target
    from harness.bundles import run as do_run

    try:
        result = do_run(open_target(_root(root), target, variables=_vars(var), state_root=state_dir), key,
                        params=_vars(param), timeout=timeout)  # fmt: skip
    except BundleError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(result.__dict__, indent=2))
    raise typer.Exit(0 if result.succeeded else 1)


@bundle_app.command()
def destroy(target: Target = None, var: Vars = None, root: Root = None, state_dir: StateDir = None,
            auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False) -> None:  # fmt: skip
    """Delete the target's jobs and its workspace folder."""
    from harness.bundles import BundleError, open_target
    from harness.bundles import destroy as do_destroy

    try:
        session = open_target(_root(root), target, variables=_vars(var), state_root=state_dir)
        if not auto_approve and not typer.confirm(f"Destroy bundle {session.bundle.name} in target {session.bundle.target.name}?"):
            raise typer.Exit(1)
        deleted = do_destroy(session)
    except BundleError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps({"deleted": deleted}))


@bundle_app.command()
def promote(source: Annotated[str, typer.Option("--from", help="QA target.")] = "qa",
            dest: Annotated[str, typer.Option("--to", help="Production target.")] = "prod",
            tests_job: Annotated[str, typer.Option(help="Job key of the notebook tests run in --from.")] = "notebook_tests",
            auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Skip the manual approval.")] = False,
            wait_approval: Annotated[float, typer.Option(help="Seconds to wait for `stepbricks approve`.")] = 0,
            var: Vars = None, root: Root = None, state_dir: StateDir = None) -> None:  # fmt: skip
    """Deploy to --from, run its notebook tests, wait for an approval, deploy to --to (nothing on failure)."""
    from harness.bundles import BundleError
    from harness.bundles import promote as do_promote

    try:
        result = do_promote(_root(root), source=source, dest=dest, tests_job=tests_job, auto_approve=auto_approve,
                            approval_wait_seconds=wait_approval, variables=_vars(var), state_root=state_dir)  # fmt: skip
    except BundleError as exc:
        raise _fail(exc) from None
    colour = {"promoted": "green", "awaiting_approval": "yellow"}.get(result.stage, "red")
    console.print(f"[{colour}]{result.stage}[/{colour}]: {result.message}", highlight=False, soft_wrap=True)
    raise typer.Exit({"promoted": 0, "awaiting_approval": AWAITING_APPROVAL_EXIT}.get(result.stage, 1))


def approve(target: Annotated[str, typer.Option("--target", "-t", help="Target being approved.")] = "prod",
            approver: Annotated[str | None, typer.Option(help="Who approves (default: $USER).")] = None,
            comment: Annotated[str, typer.Option(help="Why.")] = "",
            var: Vars = None, root: Root = None, state_dir: StateDir = None) -> None:  # fmt: skip
    """Approve promoting the bundle, as it is now, to --target (the manual approval stage of seed 004)."""
    from harness.bundles import BundleError, load_bundle
    from harness.bundles import approve as do_approve
    from harness.bundles.state import default_state_root

    try:
        bundle = load_bundle(_root(root), target=target, variables=_vars(var))
        record = do_approve(bundle, state_dir or default_state_root(bundle.root), approver=approver, comment=comment)
    except BundleError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(record.__dict__, indent=2))

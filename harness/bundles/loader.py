"""Reads `databricks.yml` and its includes, merges one target and resolves variables, as the CLI does.

Order of the CLI's mutators that matter here: load the root file and every `include` glob (relative
to the bundle root); translate local paths relative to the file that declares them; select the
target (`--target`, else the one marked `default: true`) and merge its overrides (jobs' `tasks` and
`job_clusters` by key); give every variable its value (`--var` > `BUNDLE_VAR_<name>` > target value >
default); resolve `${var.*}`, `${bundle.*}`, `${workspace.*}`; apply `mode: development`.
"""

from __future__ import annotations

import copy
import getpass
import glob
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.bundles.errors import BundleError
from harness.bundles.interpolate import _MISSING, REFERENCE, substitute
from harness.bundles.model import Bundle, JobResource, LocalFile, Target

BUNDLE_FILE = "databricks.yml"
ENV_PREFIX = "BUNDLE_VAR_"
NOTEBOOK_HEADER = "# Databricks notebook source"
_ROOT_KEYS = {"bundle", "include", "variables", "targets", "resources", "workspace", "sync", "artifacts",
              "permissions", "run_as", "presets", "experimental"}  # fmt: skip
_INCLUDED_KEYS = {"resources", "variables", "targets", "workspace", "sync", "artifacts", "permissions"}
_TARGET_KEYS = {"default", "mode", "workspace", "variables", "resources", "run_as", "presets", "bundle",
                "permissions", "sync", "artifacts"}  # fmt: skip
# Task fields holding a path to a file of the bundle: (task type, field, is a notebook).
_PATH_FIELDS = (("notebook_task", "notebook_path", True), ("spark_python_task", "python_file", False))


def load_bundle(
    root: Path,
    *,
    target: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    user: str | None = None,
    lookup: Callable[[str, str], str] | None = None,
) -> Bundle:
    """The bundle under `root` for `target`; raises `BundleError` naming the file, key and problem.

    `lookup(kind, name)` resolves a variable's `lookup: {cluster: NAME}` in the target's workspace;
    without it (offline `validate`) such a variable keeps a visible placeholder.
    """
    root = root.resolve()
    environ = os.environ if environ is None else environ
    files = _read_files(root)
    merged = _merge_files(root, files)
    chosen = _select_target(merged["targets"], target, root / BUNDLE_FILE)
    spec = merged["targets"].get(chosen.name, {})
    jobs = _merge_target_jobs(merged["jobs"], spec, chosen.declared_in)
    name = merged["bundle"].get("name")
    if not name:
        raise BundleError(f"{root / BUNDLE_FILE}: bundle.name is required (it names the deployment root)")
    user = user or environ.get("DATABRICKS_USER") or getpass.getuser()
    context = {"bundle.name": name, "bundle.target": chosen.name, "bundle.environment": chosen.name,
               "workspace.current_user.userName": user,
               "workspace.current_user.short_name": user.split("@")[0]}  # fmt: skip
    values = _variable_values(merged["variables"], spec.get("variables") or {}, variables or {}, environ,
                              chosen.declared_in, context, lookup, merged["variable_files"])  # fmt: skip
    context.update({f"var.{k}": v for k, v in values.items()})
    workspace = {**(merged["workspace"] or {}), **(spec.get("workspace") or {})}
    root_path = workspace.get("root_path") or "/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}"
    root_path = substitute(root_path, _lookup(context), f"{root / BUNDLE_FILE}: workspace.root_path")
    context.update({"workspace.root_path": root_path, "workspace.file_path": f"{root_path}/files",
                    "workspace.host": chosen.host or ""})  # fmt: skip
    resolved: dict[str, JobResource] = {}
    for key, (settings, declared_in) in jobs.items():
        where = f"{declared_in}: resources.jobs.{key}"
        settings = substitute(settings, _lookup(context), where, defer=lambda n: n.startswith("resources."))
        if chosen.mode == "development":
            settings = _development(settings, user)
        resolved[key] = JobResource(key=key, settings=settings, declared_in=declared_in)
    return Bundle(name=name, root=root, target=chosen, variables=values, jobs=resolved, user=user,
                  root_path=root_path, files=[path for path, _ in files])  # fmt: skip


# --- files ------------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BundleError(f"{path}: not valid YAML: {exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BundleError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc


def _read_files(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    main = root / BUNDLE_FILE
    if not main.exists():
        raise BundleError(f"{main}: no {BUNDLE_FILE} here (a bundle root has one)")
    doc = _read_yaml(main)
    files = [(main, doc)]
    include = doc.get("include") or []
    if not isinstance(include, list):
        raise BundleError(f"{main}: include: expected a list of glob patterns, got {type(include).__name__}")
    seen = {main}
    for pattern in include:
        matches = sorted(Path(p) for p in glob.glob(str(root / pattern), recursive=True))
        if not matches and not glob.has_magic(pattern):
            raise BundleError(f"{main}: include: {pattern} does not exist")
        for path in matches:
            path = path.resolve()
            if path in seen:
                continue
            seen.add(path)
            included = _read_yaml(path)
            extra = sorted(set(included) - _INCLUDED_KEYS)
            if extra:
                raise BundleError(f"{path}: {', '.join(extra)}: not allowed in an included file (only in {BUNDLE_FILE})")
            files.append((path, included))
    return files


def _merge_files(root: Path, files: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    main_path, main = files[0]
    unknown = sorted(set(main) - _ROOT_KEYS)
    if unknown:
        raise BundleError(f"{main_path}: unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(_ROOT_KEYS))})")
    merged: dict[str, Any] = {"bundle": main.get("bundle") or {}, "workspace": main.get("workspace") or {},
                              "jobs": {}, "variables": {}, "targets": {}}  # fmt: skip
    origins: dict[str, Path] = {}
    for path, doc in files:
        for key in _mapping(doc, "resources", path):
            if key != "jobs":
                raise BundleError(f"{path}: resources.{key}: only jobs are supported by stepbricks bundles")
        for key, spec in _mapping(_mapping(doc, "resources", path), "jobs", path, "resources.").items():
            if key in merged["jobs"]:
                raise BundleError(f"{path}: resources.jobs.{key}: defined twice (also in {merged['jobs'][key][1]})")
            if not isinstance(spec, dict):
                raise BundleError(f"{path}: resources.jobs.{key}: expected job settings (a mapping), got {spec!r}")
            merged["jobs"][key] = (_translate_paths(copy.deepcopy(spec), root, path, f"resources.jobs.{key}"), path)
        for name, decl in _mapping(doc, "variables", path).items():
            if name in origins:
                raise BundleError(f"{path}: variables.{name}: declared twice (also in {origins[name]})")
            if decl is not None and not isinstance(decl, dict):
                raise BundleError(f"{path}: variables.{name}: expected {{description, default}}, got {decl!r}")
            origins[name] = path
            merged["variables"][name] = decl or {}
        for name, tspec in _mapping(doc, "targets", path).items():
            tspec = tspec or {}
            extra = sorted(set(tspec) - _TARGET_KEYS)
            if extra:
                raise BundleError(f"{path}: targets.{name}: unknown field(s): {', '.join(extra)}")
            if name in merged["targets"]:
                raise BundleError(f"{path}: targets.{name}: defined twice")
            jobs = _mapping(_mapping(tspec, "resources", path, f"targets.{name}."), "jobs", path, f"targets.{name}.resources.")
            tspec = {**tspec, "_declared_in": path, "_jobs": {
                k: _translate_paths(copy.deepcopy(v or {}), root, path, f"targets.{name}.resources.jobs.{k}")
                for k, v in jobs.items()}}  # fmt: skip
            merged["targets"][name] = tspec
    merged["variable_files"] = origins
    return merged


def _mapping(doc: dict[str, Any], key: str, path: Path, prefix: str = "") -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise BundleError(f"{path}: {prefix}{key}: expected a mapping, got {type(value).__name__}")
    return value


def _translate_paths(spec: dict[str, Any], root: Path, declared_in: Path, key: str) -> dict[str, Any]:
    """Relative task paths become `LocalFile`s, resolved against the declaring file's folder."""
    for i, task in enumerate(spec.get("tasks") or []):
        for kind, field, notebook in _PATH_FIELDS:
            section = task.get(kind) if isinstance(task, dict) else None
            raw = section.get(field) if isinstance(section, dict) else None
            if not isinstance(raw, str) or raw.startswith("/") or "://" in raw or REFERENCE.search(raw):
                continue
            where = f"{key}.tasks[{i}].{kind}.{field}"
            local = (declared_in.parent / raw).resolve()
            if notebook and not local.exists() and local.with_suffix(".py").exists():
                local = local.with_suffix(".py")
            if not local.is_file():
                what = "notebook" if notebook else "file"
                raise BundleError(f"{declared_in}: {where}: {what} {raw} not found (looked for {local})")
            if notebook and local.suffix == ".py" and not _is_notebook(local):
                raise BundleError(f"{declared_in}: {where}: expected a notebook but got a file: {raw} "
                                  f"(a Python notebook's first line is '{NOTEBOOK_HEADER}')")  # fmt: skip
            try:
                relative = local.relative_to(root).as_posix()
            except ValueError:
                raise BundleError(f"{declared_in}: {where}: {raw} is outside the bundle root {root}") from None
            section[field] = LocalFile(path=local, relative=relative, notebook=notebook, declared_in=declared_in, key=where)
    return spec


def _is_notebook(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        return fh.readline().strip() == NOTEBOOK_HEADER


# --- targets ----------------------------------------------------------------------------------------


def _select_target(targets: dict[str, Any], name: str | None, main: Path) -> Target:
    if not targets:
        if name not in (None, "default"):
            raise BundleError(f"{main}: targets: {name}: no such target (the bundle defines none)")
        return Target(name="default", mode=None, default=True, host=None, declared_in=main)
    if name is None:
        defaults = [n for n, t in targets.items() if t.get("default")]
        if len(defaults) != 1:
            raise BundleError(f"{main}: targets: pass --target: {'several targets are' if defaults else 'no target is'} "
                              f"marked default: true (available: {', '.join(targets)})")  # fmt: skip
        name = defaults[0]
    if name not in targets:
        raise BundleError(f"{main}: targets: {name}: no such target. Available targets: {', '.join(targets)}")
    spec = targets[name]
    mode = spec.get("mode")
    if mode not in (None, "development", "production"):
        raise BundleError(f"{spec['_declared_in']}: targets.{name}.mode: must be development or production, got {mode!r}")
    host = (spec.get("workspace") or {}).get("host")
    return Target(name=name, mode=mode, default=bool(spec.get("default")), host=host, declared_in=spec["_declared_in"])


def _merge_target_jobs(jobs: dict[str, tuple[dict[str, Any], Path]], spec: dict[str, Any], declared_in: Path
                       ) -> dict[str, tuple[dict[str, Any], Path]]:  # fmt: skip
    merged = {k: (copy.deepcopy(s), p) for k, (s, p) in jobs.items()}
    for key, override in (spec.get("_jobs") or {}).items():
        base, path = merged.get(key, ({}, declared_in))
        merged[key] = (_deep_merge(base, override), path)
    return merged


def _deep_merge(base: Any, override: Any) -> Any:
    """Mappings merge; `tasks` / `job_clusters` / `parameters` merge by their key field; else override wins."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _deep_merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(override, list):
        for id_field in ("task_key", "job_cluster_key", "name"):
            if all(isinstance(x, dict) and id_field in x for x in base + override):
                out_list = list(base)
                index = {x[id_field]: i for i, x in enumerate(out_list)}
                for item in override:
                    if item[id_field] in index:
                        out_list[index[item[id_field]]] = _deep_merge(out_list[index[item[id_field]]], item)
                    else:
                        out_list.append(item)
                return out_list
    return override


# --- variables --------------------------------------------------------------------------------------


def _variable_values(
    declared: dict[str, dict[str, Any]],
    target_values: dict[str, Any],
    cli: Mapping[str, str],
    environ: Mapping[str, str],
    target_file: Path,
    context: dict[str, Any],
    lookup: Callable[[str, str], str] | None,
    files: Mapping[str, Path],
) -> dict[str, Any]:
    """--var > BUNDLE_VAR_<name> > target value > default; then `${...}` inside values are resolved."""
    for name in target_values:
        if name not in declared:
            raise BundleError(f"{target_file}: targets.*.variables.{name}: variable {name} is not defined but is assigned a value")
    for name in cli:
        if name not in declared:
            raise BundleError(f"--var {name}: variable {name} has not been defined (declared: {', '.join(sorted(declared)) or 'none'})")
    values: dict[str, Any] = {}
    for name, decl in declared.items():
        target_value = target_values.get(name)
        if isinstance(target_value, dict) and "lookup" in target_value:
            decl = {**decl, "lookup": target_value["lookup"]}
            target_value = None
        elif isinstance(target_value, dict):
            target_value = target_value.get("default")
        given = (cli.get(name), environ.get(f"{ENV_PREFIX}{name}"), target_value, decl.get("default"))
        candidate = next((v for v in given if v is not None), None)
        if candidate is None:
            candidate = _lookup_value(name, decl, lookup, files[name])
        if candidate is not None:
            values[name] = candidate
        else:
            raise BundleError(f'{files[name]}: variables.{name}: no value assigned to required variable {name}. Assignment can be done '
                              f'through the "--var" flag or by setting the {ENV_PREFIX}{name} environment variable')  # fmt: skip
    # Values may refer to `${bundle.*}`, `${workspace.current_user.*}` or other variables.
    for _ in range(len(values) + 1):
        refs = _lookup({**context, **{f"var.{k}": v for k, v in values.items()}})
        new = {k: substitute(v, refs, f"{files[k]}: variables.{k}") for k, v in values.items()}
        if new == values:
            break
        values = new
    else:
        raise BundleError(f"variables: references between variables form a cycle ({', '.join(sorted(values))})")
    return values


def _lookup_value(name: str, decl: dict[str, Any], lookup: Callable[[str, str], str] | None, file: Path) -> str | None:
    spec = decl.get("lookup")
    if not spec:
        return None
    if not isinstance(spec, dict) or len(spec) != 1:
        raise BundleError(f"{file}: variables.{name}.lookup: expected one of {{cluster: NAME}}, got {spec!r}")
    (kind, target_name), = spec.items()
    if kind != "cluster":
        raise BundleError(f"{file}: variables.{name}.lookup.{kind}: only cluster lookups are supported")
    if lookup is None:
        return f"<lookup {kind} {target_name!r}>"
    return lookup(kind, str(target_name))


def _lookup(context: Mapping[str, Any]) -> Any:
    return lambda name: context.get(name, _MISSING)


# --- mode: development ------------------------------------------------------------------------------


def _development(settings: dict[str, Any], user: str) -> dict[str, Any]:
    """The CLI's `ProcessTargetMode` for development: `[dev <user>] ` prefix, paused triggers, a dev tag."""
    short = user.split("@")[0]
    out = dict(settings)
    out["name"] = f"[dev {short}] {settings.get('name') or 'Untitled'}"
    out["tags"] = {**(settings.get("tags") or {}), "dev": short}
    for trigger in ("schedule", "trigger", "continuous"):
        if isinstance(out.get(trigger), dict):
            out[trigger] = {**out[trigger], "pause_status": "PAUSED"}
    return out

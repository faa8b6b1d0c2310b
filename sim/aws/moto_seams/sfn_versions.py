"""State machine revisions, versions and aliases as AWS keeps them (moto lacks ListStateMachineVersions,
PublishStateMachineVersion and DeleteStateMachineVersion — HTTP 500 — and publishes a new version on
every request).

AWS's model (API reference: PublishStateMachineVersion, UpdateStateMachine, DeleteStateMachineVersion,
CreateStateMachineAlias; recorded in LocalStack's test_sfn_api_versioning/aliasing.snapshot.json):
- each UpdateStateMachine that changes the definition, role or logging makes a new revision with a
  `revisionId` (a creation's revision has none); publishing a revision that already has a version
  returns that version, so publishing is idempotent per revision;
- version numbers only grow: a deleted version's number is never reused;
- `revisionId` on PublishStateMachineVersion must name the current revision, else ConflictException;
- a version an alias routes to cannot be deleted (ConflictException naming the aliases);
- an alias routes to one or two distinct versions of one machine whose weights sum to 100; creating it
  again with the same routing is idempotent, with another routing a ConflictException.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.exceptions import InvalidArn, StateMachineDoesNotExist, ValidationException
from moto.stepfunctions.models import StateMachine, StateMachineAlias, StateMachineVersion
from moto.stepfunctions.parser.asl.static_analyser.variable_references_static_analyser import (
    VariableReferencesStaticAnalyser,
)
from moto.stepfunctions.responses import StepFunctionResponse

from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register

__all__ = ["ConflictException", "alias_arn_of", "revision_id_of", "variable_references", "version_arn_of"]

_ORIGINAL_PUBLISH = StateMachine.publish
_REVISION = "_stepbricks_revision_id"
_DEFAULT_PAGE = 100


class ConflictException(AWSError):
    TYPE = "ConflictException"
    STATUS = 400


class InvalidToken(AWSError):
    TYPE = "InvalidToken"
    STATUS = 400


class MissingRequiredParameter(AWSError):
    TYPE = "MissingRequiredParameter"
    STATUS = 400


class ResourceNotFound(AWSError):
    TYPE = "ResourceNotFound"
    STATUS = 400


def revision_id_of(machine: Any) -> str | None:
    """The revision a machine (or a version) holds; None for the revision made at creation."""
    return machine.__dict__.get(_REVISION)


def _machine(backend: Any, arn: str) -> StateMachine:
    """The unqualified state machine `arn` names (a version or alias ARN names no state machine here)."""
    machine = next((m for m in backend.state_machines if m.arn == arn), None)
    if machine is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return machine


def _version_of_revision(machine: StateMachine) -> StateMachineVersion | None:
    current = revision_id_of(machine)
    return next((v for v in machine.versions.values() if revision_id_of(v) == current), None)


def _publish(self: StateMachine, description: str | None) -> None:
    """Replaces `StateMachine.publish` (CreateStateMachine/UpdateStateMachine with `publish`, and
    PublishStateMachineVersion).

    Restores: a revision is published once; publishing it again returns its version (moto made a new
    version each time). The version remembers the revision it was made from.
    """
    existing = _version_of_revision(self)
    if existing is not None:
        self.latest_version = existing
        return
    _ORIGINAL_PUBLISH(self, description)
    version = self.latest_version
    if version is not None:
        version.__dict__[_REVISION] = revision_id_of(self)
        # A version's executions are its machine's (ListExecutions of the machine lists them, with
        # `stateMachineVersionArn`); moto's interpreter also needs the backend to start one.
        version.executions = self.executions
        version.__dict__["backend"] = self.backend


def _definition_value(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return text


def _update_state_machine(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.update_state_machine`.

    Restores: a version ARN is not a state machine one can update (StateMachineDoesNotExist); a change
    of definition, role or logging makes a new revision whose `revisionId` the answer carries; `publish`
    publishes that revision once; AWS's MissingRequiredParameter wording.
    """
    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    definition = self._get_param("definition")
    role_arn = self._get_param("roleArn")
    logging = self._get_param("loggingConfiguration")
    tracing = self._get_param("tracingConfiguration")
    encryption = self._get_param("encryptionConfiguration")
    publish = bool(self._get_param("publish"))
    description = self._get_param("versionDescription")
    machine = _machine(backend, arn)
    if not any([definition, role_arn, logging, tracing, encryption]):
        # test_sfn_api.snapshot.json, test_create_update_state_machine_base_update_none
        raise MissingRequiredParameter("Either the definition, the role ARN, the LoggingConfiguration, "
                                       "or the TracingConfiguration must be specified")
    if description and not publish:
        raise ValidationException("Version description can only be set when publish is true")
    before = (_definition_value(machine.definition), machine.roleArn, machine.loggingConfiguration)
    backend.update_state_machine(arn=arn, definition=definition, role_arn=role_arn, tracing_configuration=tracing,
                                 encryption_configuration=encryption, logging_configuration=logging, publish=False)
    if (_definition_value(machine.definition), machine.roleArn, machine.loggingConfiguration) != before:
        machine.__dict__[_REVISION] = sim_context.current().ids.uuid("sfn-revision")
    response: dict[str, Any] = {"updateDate": machine.update_date}
    if revision_id_of(machine):
        response["revisionId"] = revision_id_of(machine)
    if publish:
        machine.publish(description)
        response["stateMachineVersionArn"] = machine.latest_version.arn  # type: ignore[union-attr]
    return ActionResult(response)


def _publish_state_machine_version(self: StepFunctionResponse) -> ActionResult:
    """PublishStateMachineVersion, which moto lacks (HTTP 500)."""
    machine = _machine(self.stepfunction_backend, self._get_param("stateMachineArn"))
    wanted = self._get_param("revisionId")
    current = revision_id_of(machine)
    if wanted is not None and wanted != current:
        # LocalStack provider.py publish_state_machine_version (AWS's wording)
        raise ConflictException(f"Failed to publish the State Machine version for revision {wanted}. "
                                f"The current State Machine revision is {current}.")
    machine.publish(self._get_param("description"))
    version = machine.latest_version
    assert version is not None
    return ActionResult({"creationDate": version.creation_date, "stateMachineVersionArn": version.arn})


def _paged(self: StepFunctionResponse, items: list[dict[str, Any]], arn_key: str) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `items` by `maxResults` (0 or none: 100) from `nextToken` (opaque: the first ARN of the page)."""
    size = int(self._get_param("maxResults") or 0) or _DEFAULT_PAGE
    token = self._get_param("nextToken")
    start = 0
    if token is not None:
        try:
            first = base64.urlsafe_b64decode(token.encode()).decode()
            start = next(i for i, item in enumerate(items) if item[arn_key] == first)
        except (ValueError, StopIteration):
            raise InvalidToken("Invalid Token: 'Invalid token'") from None
    page = items[start:start + size]
    rest = items[start + size:start + size + 1]
    next_token = base64.urlsafe_b64encode(rest[0][arn_key].encode()).decode() if rest else None
    return page, next_token


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    """ListStateMachineVersions, which moto lacks (HTTP 500): newest first, paged."""
    arn = self._get_param("stateMachineArn")
    machine = next((m for m in self.stepfunction_backend.state_machines if m.arn == arn), None)
    if machine is None:
        # AWS answers InvalidArn here, not StateMachineDoesNotExist (LocalStack PR #10421, "see InvalidArn
        # behaviour difference"); the exact wording is not recorded.
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
    items = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]
    page, next_token = _paged(self, items, "stateMachineVersionArn")
    response: dict[str, Any] = {"stateMachineVersions": page}
    if next_token:
        response["nextToken"] = next_token
    return ActionResult(response)


def _routing_aliases(machine: StateMachine, version_arn: str) -> list[str]:
    return [alias.name for alias in machine.aliases.values()
            if any(r.get("stateMachineVersionArn") == version_arn for r in alias.routing_configuration)]


def _delete_state_machine_version(self: StepFunctionResponse) -> EmptyResult:
    """DeleteStateMachineVersion, which moto lacks (HTTP 500): idempotent; refused while an alias routes
    to the version (test_sfn_api_aliasing.snapshot.json: exception_delete_version_with_alias_reference)."""
    arn = self._get_param("stateMachineVersionArn")
    source, _, number = arn.rpartition(":")
    machine = next((m for m in self.stepfunction_backend.state_machines if m.arn == source), None)
    version = machine.versions.get(int(number)) if machine is not None and number.isdigit() else None
    if machine is None or version is None:
        return EmptyResult()
    if names := _routing_aliases(machine, arn):
        raise ConflictException("Version to be deleted must not be referenced by an alias. "
                                f"Current list of aliases referencing this version: [{', '.join(names)}]")
    del machine.versions[version.version]
    if machine.latest_version is version:
        machine.latest_version = max(machine.versions.values(), key=lambda v: v.version, default=None)
    return EmptyResult()


def _describe_state_machine(self: StepFunctionResponse, state_machine_arn: str) -> ActionResult:
    """Replaces `StepFunctionResponse._describe_state_machine` (DescribeStateMachine and
    DescribeStateMachineForExecution).

    Restores: `revisionId` of the machine or version when it has one, a version's `description`,
    `loggingConfiguration` with `includeExecutionData` as AWS always reports it, and `variableReferences`.
    """
    machine = self.stepfunction_backend.describe_state_machine(state_machine_arn)
    logging = {"level": "OFF", "includeExecutionData": False, **(machine.loggingConfiguration or {})}
    response: dict[str, Any] = {
        "creationDate": machine.creation_date, "stateMachineArn": machine.arn, "definition": machine.definition,
        "name": machine.name, "roleArn": machine.roleArn, "status": "ACTIVE", "type": machine.type,
        "loggingConfiguration": logging, "tracingConfiguration": machine.tracingConfiguration or {"enabled": False},
        "encryptionConfiguration": machine.encryptionConfiguration,
    }
    if revision_id_of(machine):
        response["revisionId"] = revision_id_of(machine)
    if isinstance(machine, StateMachineVersion) and machine.description:
        response["description"] = machine.description
    if references := variable_references(machine.definition):
        response["variableReferences"] = references
    return ActionResult(response)


def variable_references(definition: str) -> dict[str, list[str]]:
    """The variables each state reads, by state, names sorted, JSONata expressions excluded, as AWS lists
    them (test_sfn_api_variable_references.snapshot.json); moto's interpreter ships the analyser."""
    try:
        found = VariableReferencesStaticAnalyser.process_and_get(definition)
    except Exception:  # a definition the analyser cannot read names no references
        return {}
    return {state: sorted(set(names)) for state, names in found.items() if names}


# -- executions of versions and aliases ---------------------------------------------------------------------

_ALIAS_ARN = "_stepbricks_alias_arn"


def alias_arn_of(execution: Any) -> str | None:
    """The alias an execution was started through, if any."""
    return execution.__dict__.get(_ALIAS_ARN)


def version_arn_of(execution: Any) -> str | None:
    """The version an execution runs, if it was started on a version or an alias."""
    machine = getattr(execution, "state_machine", None)
    return machine.arn if isinstance(machine, StateMachineVersion) else None


def _route(self: StepFunctionResponse, alias: StateMachineAlias) -> str:
    """The version an alias sends this execution to: by the routing weights, from the seeded id stream."""
    roll = sim_context.current().ids.fraction("sfn-alias-route") * 100
    for route in alias.routing_configuration:
        roll -= int(route.get("weight") or 0)
        if roll < 0:
            return str(route["stateMachineVersionArn"])
    return str(alias.routing_configuration[-1]["stateMachineVersionArn"])


def _start_execution(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.start_execution`.

    Restores: a version ARN starts that version and an alias ARN one of the versions it routes to, by
    weight (moto failed with HTTP 500 on a version and StateMachineDoesNotExist on an alias); an
    execution started without a name gets a UUID, as on AWS (moto's interpreter named it "None", so a
    second one failed with ExecutionAlreadyExists).
    """
    arn = self._get_param("stateMachineArn")
    source, _, qualifier = arn.rpartition(":")
    alias = None
    if source.count(":") == 6 and qualifier and not qualifier.isdigit() and "#" not in qualifier:
        alias = _alias(self, arn)
        if alias is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        arn = _route(self, alias)
    name = self._get_param("name") or sim_context.current().ids.uuid("execution")
    execution = self.stepfunction_backend.start_execution(arn, name, self._get_param("input", if_none="{}"))
    if alias is not None:
        execution.__dict__[_ALIAS_ARN] = alias.arn
    return ActionResult({"executionArn": execution.execution_arn, "startDate": execution.start_date})


# Sibling modules' say in ListExecutions (sfn_redrive: redriveFilter and the redrive fields), one row owning
# the action: each is called once per request (to check its parameters) and gives a function that completes
# one execution's item and says whether the page keeps it.
LIST_EXECUTIONS_ITEMS: list[Callable[[StepFunctionResponse], Callable[[Any, dict[str, Any]], bool]]] = []


# The child executions of a map run, for ListExecutions(mapRunArn=...): `sfn_map_runs` sets it.
MAP_RUN_EXECUTIONS: list[Callable[[Any, str], list[dict[str, Any]]]] = []


def _list_executions(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.list_executions`.

    Restores: executions of a machine's versions are listed under the machine with their
    `stateMachineVersionArn`; a version ARN lists that version's executions only; a TIMED_OUT item has its
    `stopDate` (moto gave it only to SUCCEEDED, FAILED and ABORTED ones); sibling modules complete or filter
    the items (`LIST_EXECUTIONS_ITEMS`); `mapRunArn` lists that map run's child executions
    (`MAP_RUN_EXECUTIONS`, as the API reference's ListExecutions describes the parameter).
    """
    map_run_arn = self._get_param("mapRunArn")
    if map_run_arn and not self._get_param("stateMachineArn") and MAP_RUN_EXECUTIONS:
        children = MAP_RUN_EXECUTIONS[0](self.stepfunction_backend, map_run_arn)
        status = self._get_param("statusFilter")
        return ActionResult({"executions": [c for c in children if status is None or c["status"] == status]})
    completers = [make(self) for make in LIST_EXECUTIONS_ITEMS]  # parameters checked before anything is listed
    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    machine = backend.describe_state_machine(arn)
    results, next_token = backend.list_executions(arn, status_filter=self._get_param("statusFilter"),
                                                  max_results=self._get_int_param("maxResults"),
                                                  next_token=self._get_param("nextToken"))
    items = []
    for execution in results:
        version = version_arn_of(execution)
        if isinstance(machine, StateMachineVersion) and version != machine.arn:
            continue
        item = {"executionArn": execution.execution_arn, "name": execution.name, "startDate": execution.start_date,
                "stateMachineArn": getattr(machine, "source_arn", machine.arn), "status": execution.status}
        if version:
            item["stateMachineVersionArn"] = version
        if alias_arn_of(execution):
            item["stateMachineAliasArn"] = alias_arn_of(execution)
        if execution.status in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"):
            item["stopDate"] = execution.stop_date
        if all([complete(execution, item) for complete in completers]):  # every completer sees every item
            items.append(item)
    return ActionResult({"executions": items, "nextToken": next_token})


# -- aliases ---------------------------------------------------------------------------------------------

def _validate_routing_configuration(self: StepFunctionResponse, routing_configuration: list[dict[str, Any]]) -> None:
    """Replaces `StepFunctionResponse._validate_routing_configuration` (Create/UpdateStateMachineAlias).

    Restores AWS's checks and wordings (test_sfn_api_aliasing.snapshot.json): distinct version ARNs,
    weights summing to 100 ("Sum of routing configuration weights must equal 100. Received: [70, 29]"),
    and every ARN an existing version ("Routing configuration must contain state machine version ARNs.
    Received: [...]"). The list's length and each weight's range are model constraints (sfn_constraints).
    """
    arns = [str(r.get("stateMachineVersionArn")) for r in routing_configuration]
    listed = f"[{', '.join(arns)}]"
    if len(set(arns)) < len(arns):
        raise ValidationException(f"Routing configuration must contain distinct state machine version ARNs. "
                                  f"Received: {listed}")
    weights = [r.get("weight") for r in routing_configuration]
    if sum(int(w or 0) for w in weights) != 100:
        raise ValidationException(f"Sum of routing configuration weights must equal 100. Received: {json.dumps(weights)}")
    backend = self.stepfunction_backend
    for arn in arns:
        source, _, number = arn.rpartition(":")
        machine = next((m for m in backend.state_machines if m.arn == source), None)
        if machine is None or not number.isdigit() or int(number) not in machine.versions:
            raise ValidationException(f"Routing configuration must contain state machine version ARNs. Received: {listed}")
    if len({arn.rpartition(":")[0] for arn in arns}) > 1:
        # moto's wording; AWS's is not recorded.
        raise ValidationException("Both stateMachineVersionArn values must belong to the same state machine.")


def _same_routing(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def key(routes: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return sorted((str(r.get("stateMachineVersionArn")), int(r.get("weight") or 0)) for r in routes)
    return key(a) == key(b)


def _create_state_machine_alias(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.create_state_machine_alias`.

    Restores: AWS's routing checks; creating an existing alias again is idempotent with the same routing
    and a ConflictException with another (moto replaced the alias silently).
    """
    name = self._get_param("name")
    routing = self._get_param("routingConfiguration") or []
    self._validate_routing_configuration(routing)
    machine_arn = str(routing[0]["stateMachineVersionArn"]).rpartition(":")[0]
    machine = _machine(self.stepfunction_backend, machine_arn)
    existing: StateMachineAlias | None = machine.aliases.get(name)
    if existing is not None:
        if not _same_routing(existing.routing_configuration, routing):
            raise ConflictException("Failed to create alias because an alias with the same name and a "
                                    "different routing configuration already exists.")
        return ActionResult({"creationDate": existing.creation_date, "stateMachineAliasArn": existing.arn})
    alias = StateMachineAlias(name, machine.arn, routing, self._get_param("description"))
    machine.aliases[name] = alias
    return ActionResult({"creationDate": alias.creation_date, "stateMachineAliasArn": alias.arn})


def _alias(self: StepFunctionResponse, arn: str) -> StateMachineAlias | None:
    source, _, name = arn.rpartition(":")
    machine = next((m for m in self.stepfunction_backend.state_machines if m.arn == source), None)
    return machine.aliases.get(name) if machine is not None else None


def _update_state_machine_alias(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.update_state_machine_alias`.

    Restores: an alias that does not exist is ResourceNotFound "Request references a resource that does
    not exist." (test_sfn_api_aliasing.snapshot.json), checked after the routing as AWS does.
    """
    arn = self._get_param("stateMachineAliasArn")
    description = self._get_param("description")
    routing = self._get_param("routingConfiguration")
    if description is None and routing is None:
        raise ValidationException("You must provide at least one of routingConfiguration or description")
    if routing:
        self._validate_routing_configuration(routing)
    alias = _alias(self, arn)
    if alias is None:
        raise ResourceNotFound("Request references a resource that does not exist.")
    alias.update(routing_configuration=routing or None, description=description)
    return ActionResult({"updateDate": alias.update_date})


def _delete_state_machine_alias(self: StepFunctionResponse) -> EmptyResult:
    """Replaces `StepFunctionResponse.delete_state_machine_alias`.

    Restores: deleting an alias that no longer exists succeeds, as AWS's does
    (test_sfn_api_aliasing.snapshot.json, test_delete_no_such_alias_arn); moto answered ResourceNotFound.
    """
    arn = self._get_param("stateMachineAliasArn")
    source, _, name = arn.rpartition(":")
    machine = next((m for m in self.stepfunction_backend.state_machines if m.arn == source), None)
    if machine is not None:
        machine.aliases.pop(name, None)
    return EmptyResult()


register(
    [
        (StateMachine, "publish", _publish),
        (StepFunctionResponse, "delete_state_machine_alias", _delete_state_machine_alias),
        (StepFunctionResponse, "update_state_machine", _update_state_machine),
        (StepFunctionResponse, "publish_state_machine_version", _publish_state_machine_version),  # added
        (StepFunctionResponse, "list_state_machine_versions", _list_state_machine_versions),  # added
        (StepFunctionResponse, "delete_state_machine_version", _delete_state_machine_version),  # added
        (StepFunctionResponse, "_describe_state_machine", _describe_state_machine),
        (StepFunctionResponse, "_validate_routing_configuration", _validate_routing_configuration),
        (StepFunctionResponse, "create_state_machine_alias", _create_state_machine_alias),
        (StepFunctionResponse, "update_state_machine_alias", _update_state_machine_alias),
        (StepFunctionResponse, "start_execution", _start_execution),
        (StepFunctionResponse, "list_executions", _list_executions),
        # added: moto's versions lack it (StartExecution of a version failed with HTTP 500)
        (StateMachineVersion, "_handle_name_input_idempotency", StateMachine._handle_name_input_idempotency),
    ],
    [
        Seam(StateMachine, "publish", ("self", "description"), _publish.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_publishing_a_revision_twice_returns_its_version"),
        Seam(StepFunctionResponse, "update_state_machine", ("self",), _update_state_machine.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_update_that_changes_the_definition_makes_a_revision_and_publishes_it_once"),
        Seam(StepFunctionResponse, "_describe_state_machine", ("self", "state_machine_arn"),
             _describe_state_machine.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_a_version_describes_its_own_arn_description_and_definition"),
        Seam(StepFunctionResponse, "_validate_routing_configuration", ("self", "routing_configuration"),
             _validate_routing_configuration.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_routing_must_name_distinct_existing_versions_weighing_100"),
        Seam(StepFunctionResponse, "create_state_machine_alias", ("self",), _create_state_machine_alias.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_creating_an_alias_again_is_idempotent_unless_the_routing_differs"),
        Seam(StepFunctionResponse, "update_state_machine_alias", ("self",), _update_state_machine_alias.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_updating_a_missing_alias_is_resource_not_found"),
        Seam(StepFunctionResponse, "start_execution", ("self",), _start_execution.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_an_alias_routes_executions_to_its_version"),
        Seam(StepFunctionResponse, "delete_state_machine_alias", ("self",), _delete_state_machine_alias.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_deleting_an_alias_twice_succeeds"),
        Seam(StepFunctionResponse, "list_executions", ("self",), _list_executions.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_executions_of_a_version_are_listed_under_the_machine_with_their_version"),
        Seam(StepFunctionResponse, "publish_state_machine_version", (), _publish_state_machine_version.__doc__ or "",
             adds=True,
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_publish_with_a_stale_revision_id_is_a_conflict"),
        Seam(StepFunctionResponse, "list_state_machine_versions", (), _list_state_machine_versions.__doc__ or "",
             adds=True,
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_list_state_machine_versions_lists_newest_first_in_pages"),
        Seam(StepFunctionResponse, "delete_state_machine_version", (), _delete_state_machine_version.__doc__ or "",
             adds=True,
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_deleted_version_numbers_are_not_reused_and_delete_is_idempotent"),
        Seam(StateMachineVersion, "_handle_name_input_idempotency", (),
             "Adds `StateMachine._handle_name_input_idempotency` to moto's versions, which lack it: StartExecution "
             "of a version failed with HTTP 500", adds=True,
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_executions_of_a_version_are_listed_under_the_machine_with_their_version"),
        Seam(StateMachine, "_handle_name_input_idempotency", ("self", "name", "execution_input"),
             "StateMachineVersion borrows it to start executions of versions",
             proved_by="tests/sim/aws/sfn/test_versions_and_aliases.py::test_executions_of_a_version_are_listed_under_the_machine_with_their_version"),
    ],
)

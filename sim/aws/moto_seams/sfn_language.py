"""Step Functions language fidelity in moto's ASL interpreter: JSONata and variables.

moto's interpreter (a port of LocalStack's) parses JSONata states and `Assign`, but its evaluator is
stubbed (`_eval_jsonata = None`), so every `{% %}` expression and every `$var` read fails with
`TypeError('NoneType' object is not callable)`. The patches here evaluate with `sfn_jsonata` (binding
`$states`, the variables and AWS's functions directly instead of moto's text splicing, which also did
not escape quotes in strings) and raise AWS's `States.QueryEvaluationError` with AWS's cause wording.
Registered with `core.register` at import.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.api import (
    EvaluationFailedEventDetails,
    HistoryEventType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import is_terminal
from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_binding import (
    AssignTemplateBinding,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_binding import (
    JSONataTemplateBinding,
)
from moto.stepfunctions.parser.asl.component.common.outputdecl import Output
from moto.stepfunctions.parser.asl.component.common.parargs import Parameters, Parargs
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
    StringVariableSample,
)
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison import ConditionStringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.items.items import ItemsJSONata
from moto.stepfunctions.parser.asl.component.state.fail.cause_decl import Cause
from moto.stepfunctions.parser.asl.component.state.fail.error_decl import Error
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError, extract_json

from sim.aws.http_task import is_http_error_name
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_jsonata import EvaluationError, Undefined, evaluate
from sim.aws.moto_seams.sfn_parse_cache import jsonpath

__all__ = ["field_path", "jsonata_bindings"]

_FIELDS_ATTRIBUTE = "_stepbricks_field_path"
_VARIABLE_PATH = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.DOTALL)


# -- where in the state an expression sits ("Output/v", "Assign/total", "Arguments/Payload") ---------

def _field_stack(env: Environment) -> list[str]:
    stack = env.__dict__.get(_FIELDS_ATTRIBUTE)
    if stack is None:
        stack = []
        env.__dict__[_FIELDS_ATTRIBUTE] = stack
    return stack


def field_path(env: Environment) -> str:
    """The field AWS names in a QueryEvaluationError cause, e.g. `Output/v`."""
    return "/".join(_field_stack(env))


def _in_field(owner: Any, segment: Callable[[Any], str | None]) -> tuple[Any, str, Any]:
    """A patch of `owner._eval_body` that records the field it evaluates for error messages."""
    original = owner._eval_body

    def _eval_body(self: Any, env: Environment) -> None:
        name = segment(self)
        if name is None:
            return original(self, env)
        stack = _field_stack(env)
        stack.append(name)
        try:
            return original(self, env)
        finally:
            stack.pop()

    _eval_body.__doc__ = f"Wraps `{owner.__name__}._eval_body`: names the field for QueryEvaluationError causes."
    return owner, "_eval_body", _eval_body


def _arguments_segment(component: Parargs) -> str | None:
    return None if isinstance(component, Parameters) else "Arguments"


_NAMES_ITS_FIELD = "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_a_failing_expression_names_its_field_in_the_query_evaluation_error"
_FIELD_TESTS = {  # the test that fails without each field's row
    "Output": "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_runtime_error_cause_carries_the_jsonata_code",
    "Parargs": _NAMES_ITS_FIELD + "[Arguments]",
    "JSONataTemplateBinding":
        "tests/sim/aws/sfn/test_golden_examples.py::test_guide_example_finishes_as_the_guide_documents[jsonata_evaluation_error_names_the_field]",
    "AssignTemplateBinding": "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_undefined_result_fails_with_query_evaluation_error_and_an_evaluation_failed_event",
    "ItemsJSONata": _NAMES_ITS_FIELD + "[Items]",
    "ConditionStringJSONata": _NAMES_ITS_FIELD + "[Condition]",
    "Error": _NAMES_ITS_FIELD + "[Error]",
    "Cause": _NAMES_ITS_FIELD + "[Cause]",
}
_FIELD_PATCHES = [
    _in_field(Output, lambda _: "Output"),
    _in_field(Parargs, _arguments_segment),
    _in_field(JSONataTemplateBinding, lambda binding: binding.identifier),
    _in_field(AssignTemplateBinding, lambda binding: binding.identifier),
    _in_field(ItemsJSONata, lambda _: "Items"),
    _in_field(ConditionStringJSONata, lambda _: "Condition"),
    _in_field(Error, lambda _: "Error"),
    _in_field(Cause, lambda _: "Cause"),
]


# -- JSONata evaluation ----------------------------------------------------------------------------

def _variables(store: VariableStore) -> dict[str, Any]:
    """Every variable in scope: the outer scope (read-only inside Map/Parallel), then this scope's own."""
    return {**store._outer_scope, **store._inner_scope}


_BEFORE_ASSIGN_ATTRIBUTE = "_stepbricks_before_assign"


def _visible_variables(env: Environment) -> dict[str, Any]:
    """The variables an expression reads: as they were when the state was entered, until the next state.

    AWS evaluates a state's `Assign` and `Output` side by side ("Passing data between states with
    variables"): `Output` (and a Catch's `Output`) see the values from before this state's `Assign`.
    """
    before = env.__dict__.get(_BEFORE_ASSIGN_ATTRIBUTE)
    if before is not None and before[0] == env.event_history_context.source_event_id:
        return before[1]
    return _variables(env.variable_store)


# "Passing data between states with variables": one variable ≤ 256 KiB, one Assign ≤ 256 KiB in all,
# every variable of an execution ≤ 10 MiB.
MAX_VARIABLE_BYTES = 256 * 1024
MAX_ASSIGN_BYTES = 256 * 1024
MAX_EXECUTION_VARIABLES_BYTES = 10 * 1024 * 1024


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _variables_too_large(env: Environment, declarations: dict[str, Any]) -> str | None:
    sizes = {name: _size(value) for name, value in declarations.items()}
    for name, size in sizes.items():
        if size > MAX_VARIABLE_BYTES:
            return f"The variable '{name}' is {size} bytes, over the limit of {MAX_VARIABLE_BYTES} bytes for a variable."
    if sum(sizes.values()) > MAX_ASSIGN_BYTES:
        return (f"The variables assigned in 'Assign' total {sum(sizes.values())} bytes, over the limit of "
                f"{MAX_ASSIGN_BYTES} bytes for one Assign.")
    stored = {**_variables(env.variable_store), **declarations}
    total = sum(_size(v) for v in stored.values())
    if total > MAX_EXECUTION_VARIABLES_BYTES:
        return (f"The execution's variables total {total} bytes, over the limit of {MAX_EXECUTION_VARIABLES_BYTES} "
                f"bytes for an execution.")
    return None


def _assign_eval_body(self: AssignDecl, env: Environment) -> None:
    """Replaces `AssignDecl._eval_body` (the same evaluation, then three checks before writing).

    Restores: within one state, `Output` reads variables as they were before `Assign` (moto evaluated
    Output after writing the new values), the next state sees the new values; AWS's size limits (a
    variable 256 KiB, one Assign 256 KiB, an execution's variables 10 MiB) fail the state with
    States.Runtime instead of storing the value.
    """
    stack = _field_stack(env)
    stack.append("Assign")
    try:
        declarations: dict[str, Any] = {}
        for binding in self.declaration_bindings:
            binding.eval(env=env)
            declarations.update(env.stack.pop())
    finally:
        stack.pop()
    problem = _variables_too_large(env, declarations)
    if problem is not None:
        raise FailureEventException(failure_event=FailureEvent(
            env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                error=StatesErrorNameType.StatesRuntime.to_name(), cause=problem)),
        ))
    env.__dict__[_BEFORE_ASSIGN_ATTRIBUTE] = (env.event_history_context.source_event_id,
                                              _variables(env.variable_store))
    for name, value in declarations.items():
        env.variable_store.set(variable_identifier=name, variable_value=value)


def jsonata_bindings(env: Environment) -> dict[str, Any]:
    """What a JSONata expression can read: `$states` (input, context, result, errorOutput) and variables."""
    states = {key: value for key, value in env.states._states_data.items()}
    return {**_visible_variables(env), "states": states}


def _query_evaluation_failure(env: Environment, cause: str) -> FailureEventException:
    """States.QueryEvaluationError, recorded as an EvaluationFailed event as AWS records it."""
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    failure = FailureEventException(failure_event=FailureEvent(
        env=env, error_name=error_name, event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=EvaluationFailedEventDetails(
            error=error_name.error_name, cause=cause)),
    ))
    env.event_manager.add_event(
        context=env.event_history_context, event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()),
    )
    return failure


def _evaluate_in_state(env: Environment, expression: str) -> Any:
    try:
        return evaluate(expression, jsonata_bindings(env))
    except Undefined:
        raise _query_evaluation_failure(
            env, f"The JSONata expression '{expression}' specified for the field '{field_path(env)}' "
                 f"returned nothing (undefined).") from None
    except EvaluationError as exc:
        raise _query_evaluation_failure(
            env, f"The JSONata expression '{expression}' specified for the field '{field_path(env)}' "
                 f"threw an error during evaluation. {exc}") from None


def _string_jsonata_eval_body(self: StringJSONata, env: Environment) -> None:
    """Replaces `StringJSONata._eval_body` (moto calls a stubbed JVM bridge).

    Restores: `{% %}` expressions evaluate as on AWS, with `$states`, variables and AWS's functions
    bound; an undefined result or a JSONata error fails the state with States.QueryEvaluationError,
    cause "The JSONata expression '<expr>' specified for the field '<field>' returned nothing
    (undefined)." / "... threw an error during evaluation. <CODE>: <message>".
    """
    env.stack.append(_evaluate_in_state(env, self.expression))


def _variable_sample_eval_body(self: StringVariableSample, env: Environment) -> None:
    """Replaces `StringVariableSample._eval_body` (moto calls the stubbed JVM bridge).

    Restores: `$var`, `$var.field` and `$var[0]` read variables in JSONPath states (e.g.
    `"total.$": "$order.total"`), and the same in JSONata states through the JSONata evaluator.
    A missing variable or path fails the state with States.Runtime as a missing JSONPath does.
    """
    if self.query_language_mode == QueryLanguageMode.JSONata:
        env.stack.append(_evaluate_in_state(env, self.expression))
        return
    match = _VARIABLE_PATH.match(self.expression.strip())
    if match is None:
        raise NoSuchJsonPathError(json_path=self.expression, data=_visible_variables(env))
    name, rest = match.groups()
    try:
        value = _visible_variables(env)[name]
    except KeyError:
        raise NoSuchJsonPathError(json_path=self.expression, data=_visible_variables(env)) from None
    if rest:
        value = _extract_json("$" + rest, value)
    env.stack.append(json.loads(json.dumps(value)))


def _inner_string_of(*args: Any, **kwargs: Any) -> str | None:
    """Replaces the static `Preprocessor._inner_string_of` (called positionally and by keyword, hence *args).

    Restores: a string literal in a definition means the JSON string it encodes, as on AWS: moto kept
    JSON escapes, so `"Assign": {"s": "say \\"hi\\""}` assigned `say \\"hi\\"` with backslashes.
    """
    context = kwargs.get("parser_rule_context", args[-1] if args else None)
    if is_terminal(context, ASLLexer.NULL):
        return None
    text = context.getText()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    return text


def _custom_error_name_init(self: CustomErrorName, error_name: str | None) -> None:
    """Replaces `CustomErrorName.__init__`, which refused any name starting with `States.`.

    Restores: an error raised inside a Map iteration (States.TaskFailed, States.QueryEvaluationError,
    ...) reaches the Map state under its own name, so the Map's Retry/Catch match it; moto re-wrapped
    it as a custom name and failed with States.Runtime "Custom Error Names MUST NOT begin with the
    prefix 'States.'". The rule still holds where it belongs, in definitions (`_visit_error_name`).
    """
    ErrorName.__init__(self, error_name=error_name)


def _visit_error_name(self: Preprocessor, ctx: Any) -> ErrorName:
    """Wraps `Preprocessor.visitError_name`.

    Restores: every error name AWS predefines can be named in ErrorEquals, including
    `States.QueryEvaluationError` (moto's grammar reads it as a custom name and refuses it) and the
    HTTP Task's `States.Http.StatusCode.<code>` / `States.Http.Socket`; an unknown `States.` name is
    still refused in the definition, as AWS refuses it.
    """
    literal = ctx.string_literal() if hasattr(ctx, "string_literal") else None
    if literal is not None:
        name = _inner_string_of(parser_rule_context=literal)
        if isinstance(name, str) and is_http_error_name(name):
            return CustomErrorName(error_name=name)
        if isinstance(name, str) and name.startswith("States."):
            try:
                return StatesErrorName(typ=StatesErrorNameType.from_name(name))
            except ValueError:
                raise ValueError(f"Custom Error Names MUST NOT begin with the prefix 'States.', got '{name}'.") from None
    return _ORIGINAL_VISIT_ERROR_NAME(self, ctx)


_ORIGINAL_VISIT_ERROR_NAME = Preprocessor.visitError_name


_ORIGINAL_OPEN_SCOPE = Preprocessor._open_query_language_scope


def _open_query_language_scope(self: Preprocessor, parse_tree: Any) -> None:
    """Wraps `Preprocessor._open_query_language_scope`.

    Restores: each definition is read in its own QueryLanguage. moto keeps the scope stack in a class
    attribute shared by every parse and every thread, so a definition refused inside a JSONata scope
    left JSONata on the stack and every later JSONPath definition was refused ("Unsupported
    declaration in QueryLanguage=JSONPath block").
    """
    if "_query_language_per_scope" not in self.__dict__:
        self._query_language_per_scope = []
    _ORIGINAL_OPEN_SCOPE(self, parse_tree)


_INDEFINITE_PATH = re.compile(r"\[\s*\*\s*\]|\[\s*\?|\.\.|\[[^\]]*[:,][^\]]*\]|\.\*")
_DEFINITE_PATH = "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_definite_jsonpath_through_an_array_index_selects_one_value_and_a_filter_selects_a_list"
_CHOICE_PATH = "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_a_choice_rule_reads_one_value_through_an_array_index"
_OPERATORS = "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations."
_JSON_PATH_USERS = {  # where moto's interpreter imported `extract_json`, and the test that fails without the row
    "moto.stepfunctions.parser.asl.component.common.string.string_expression": _DEFINITE_PATH,
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument":
        "tests/sim/aws/sfn/test_jsonata_and_variables.py::test_an_intrinsic_argument_reads_one_value_through_an_array_index",
    _OPERATORS + "timestamp_operators": _CHOICE_PATH + "[TimestampEqualsPath]",
    _OPERATORS + "boolean_equals": _CHOICE_PATH + "[BooleanEqualsPath]",
    _OPERATORS + "numeric": _CHOICE_PATH + "[NumericEqualsPath]",
    _OPERATORS + "string_operators": _CHOICE_PATH + "[StringEqualsPath]",
}  # (not `eval.states`: its `States._extract` gets a path only from `States.extract`, which nothing calls)


def _extract_json(path: str, data: Any) -> Any:
    """Replaces `extract_json` where moto's interpreter imported it.

    Restores: a definite JSONPath (`$.items[0].sku`) selects one value, as on AWS; moto returned a
    one-element list for any path that passes through an array index. Indefinite paths (wildcards,
    filters, slices, unions, `..`) still select a list.
    """
    if _INDEFINITE_PATH.search(path) is None:
        matches = jsonpath(path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return extract_json(path, data)


def _assigned_variables(self: VariableStore) -> dict[str, str]:
    """Replaces `VariableStore.get_assigned_variables`.

    Restores: `assignedVariables` in a state's exited event holds each value as JSON text, as AWS
    shows it; moto wrapped strings in quotes without escaping (`"say "hi""` instead of `"say \\"hi\\""`).
    """
    return {name: json.dumps(self.get(name), separators=(",", ":"), ensure_ascii=False)
            for name in self._declaration_tracing}


register(
    [
        (StringJSONata, "_eval_body", _string_jsonata_eval_body),
        (StringVariableSample, "_eval_body", _variable_sample_eval_body),
        (VariableStore, "get_assigned_variables", _assigned_variables),
        (Preprocessor, "_inner_string_of", _inner_string_of),
        (AssignDecl, "_eval_body", _assign_eval_body),
        *[(importlib.import_module(name), "extract_json", _extract_json) for name in _JSON_PATH_USERS],
        (CustomErrorName, "__init__", _custom_error_name_init),
        (Preprocessor, "_open_query_language_scope", _open_query_language_scope),
        (Preprocessor, "visitError_name", _visit_error_name),
        *_FIELD_PATCHES,
    ],
    [
        Seam(StringJSONata, "_eval_body", ("self", "env"), _string_jsonata_eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_jsonata_output_reads_states_input_and_context"),
        Seam(StringVariableSample, "_eval_body", ("self", "env"), _variable_sample_eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_jsonpath_reads_variable_paths_and_a_missing_variable_is_a_runtime_error"),
        Seam(VariableStore, "get_assigned_variables", ("self",), _assigned_variables.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_assigned_variables_in_history_are_json_text"),
        Seam(AssignDecl, "_eval_body", ("self", "env"), _assign_eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_a_variable_over_256_kib_fails_the_state_with_states_runtime"),
        *[Seam(importlib.import_module(name), "extract_json", ("path", "data"), _extract_json.__doc__ or "",
               proved_by=test) for name, test in _JSON_PATH_USERS.items()],
        Seam(Preprocessor, "_open_query_language_scope", ("self", "parse_tree"),
             _open_query_language_scope.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_definitions.py::test_a_refused_jsonata_definition_does_not_leak_its_query_language_into_later_ones"),
        Seam(CustomErrorName, "__init__", ("self", "error_name"), _custom_error_name_init.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_map_iteration_error_keeps_its_states_name_so_the_maps_catch_matches"),
        Seam(Preprocessor, "visitError_name", ("self", "ctx"), _visit_error_name.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_http_invoke.py::test_not_found_fails_with_states_http_status_code_404_and_is_caught"),
        Seam(Preprocessor, "_inner_string_of", ("parser_rule_context",), _inner_string_of.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_jsonata_and_variables.py::test_assigned_variables_in_history_are_json_text"),
        *[Seam(owner, name, ("self", "env"), replacement.__doc__ or "", proved_by=_FIELD_TESTS[owner.__name__])
          for owner, name, replacement in _FIELD_PATCHES],
    ],
)

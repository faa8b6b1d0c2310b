"""A Distributed Map's `ItemReader`, `ItemBatcher` and `ResultWriter` in moto's interpreter, as AWS runs them.

moto's interpreter (LocalStack's) reads CSV (comma only) and JSON files with `s3:getObject` and returns the
first page of `s3:listObjectsV2` as boto3 answers it; its grammar refuses `ItemBatcher`, `CSVDelimiter`,
the JSONL and MANIFEST input types and `WriterConfig`; and its ResultWriter writes a manifest listing no
result files, for whichever map run came last. The spec is the developer guide's "ItemReader (Map)",
"ItemBatcher (Map)" and "ResultWriter (Map)" (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html);
what the reader and the writer produce is `sim.aws.map_items` (no moto).

- Definitions: the fields the grammar lacks are taken out of each Map state before moto parses it and
  hung on the parsed state (`extras_of`), so CreateStateMachine accepts them and the run sees them.
- ItemReader: S3 is read through the interpreter's S3 client (the execution role's under IAM enforcement);
  an unreadable source fails the state with `States.ItemReaderFailed`.
- ResultWriter: the map run (`sfn_map_runs`) writes its results when it ends, failed or not; the state's
  result is then `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`, so ResultWriter's own step has
  nothing left to do.
Known gaps: `WriterConfig` (OutputType/Transformation) is accepted but results are always written as JSON
with the NONE transformation; result files are never split (AWS splits at 5 GB); `BatchInput` reads JSONPath
paths (`"k.$": "$.x"`) but no intrinsic functions and no JSONata (`{% %}` stays text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
    ResourceEvalS3 as ReaderS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.item_reader_decl import (
    ItemReader,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3 as WriterS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (
    ResultWriter,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils.json_path import extract_json

from sim.aws import map_items
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_parse_cache import parse_program

__all__ = ["MapExtras", "batch_settings", "extras_of", "write_results"]

_ORIGINAL_PARSE = parse_program  # moto's parse, with the definition's ANTLR tree cached


class MapExtras(dict):
    """What a Map state declares beyond moto's grammar: `ItemBatcher`, `InputType` (the real one),
    `CSVDelimiter`, `WriterConfig`."""


def _map_states(states: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Map state of a `States` object by name, nested ones (Map processors, Parallel branches) included."""
    for name, state in states.items() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Map":
            yield name, state
            for processor in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(processor), dict):
                    yield from _map_states(state[processor].get("States"))
        for branch in state.get("Branches") or [] if state.get("Type") == "Parallel" else []:
            if isinstance(branch, dict):
                yield from _map_states(branch.get("States"))


def _take_extras(document: dict[str, Any]) -> dict[str, MapExtras]:
    """Remove from each Map state what the grammar refuses; returns it by state name (ASL state names are
    unique in a whole machine)."""
    found: dict[str, MapExtras] = {}
    for name, state in _map_states(document.get("States")):
        processor = state.get("ItemProcessor") if isinstance(state.get("ItemProcessor"), dict) else {}
        if (processor.get("ProcessorConfig") or {}).get("Mode") != "DISTRIBUTED":
            continue  # these fields belong to Distributed Maps: an Inline Map's are refused by the grammar, as AWS does
        extras = MapExtras()
        if "ItemBatcher" in state:
            extras["ItemBatcher"] = state.pop("ItemBatcher")
        config = (state.get("ItemReader") or {}).get("ReaderConfig")
        if isinstance(config, dict):
            if "CSVDelimiter" in config:
                extras["CSVDelimiter"] = config.pop("CSVDelimiter")
            if config.get("InputType") in ("JSONL", "MANIFEST"):
                extras["InputType"], config["InputType"] = config["InputType"], "JSON"
        writer = state.get("ResultWriter")
        if isinstance(writer, dict) and "WriterConfig" in writer:
            extras["WriterConfig"] = writer.pop("WriterConfig")
        percentage = state.get("ToleratedFailurePercentage")
        if isinstance(percentage, int) and not isinstance(percentage, bool):  # the grammar takes only 5.0
            extras["percentage"] = state["ToleratedFailurePercentage"] = float(percentage)
        if extras:
            found[name] = extras
    return found


def _components(root: Any) -> Iterator[Any]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Component):
            yield value
            stack.extend(vars(value).values())
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)


def _parse(definition: str) -> tuple[Any, Any]:
    """Wraps the static `AmazonStateLanguageParser.parse`.

    Restores: a Map state may declare `ItemBatcher`, `ReaderConfig.CSVDelimiter`, `InputType` JSONL or
    MANIFEST, `ResultWriter.WriterConfig` and an integer `ToleratedFailurePercentage`, as AWS allows; moto's
    grammar refused each ("mismatched input"). They are parsed without those fields and the parsed Map states
    carry them (`extras_of`).
    Adds: the ANTLR tree of a definition is made once (`sfn_parse_cache.parse_program`); moto parsed it on
    every StartExecution, 70-150 ms for the reference pipeline."""
    try:
        document = json.loads(definition)
    except ValueError:
        return _ORIGINAL_PARSE(definition)
    if not isinstance(document, dict):
        return _ORIGINAL_PARSE(definition)
    if not any(True for _ in _map_states(document.get("States"))):
        return _ORIGINAL_PARSE(definition)
    extras = _take_extras(document)
    program, tree = _ORIGINAL_PARSE(json.dumps(document) if extras else definition)
    for component in _components(program):
        if isinstance(component, StateMap):
            found = extras.get(component.name, MapExtras())
            component.sb_extras = found
            component.iteration_component.sb_state = component  # the map run finds its ResultWriter, ItemBatcher
            if component.item_reader is not None:
                component.item_reader.sb_extras = found
    return program, tree


def extras_of(state: StateMap | None) -> MapExtras:
    return getattr(state, "sb_extras", None) or MapExtras()


def _item_reader_failed(env: Environment, cause: str) -> FailureEventException:
    error = StatesErrorName(typ=StatesErrorNameType.StatesItemReaderFailed)
    return FailureEventException(FailureEvent(
        env=env, error_name=error, event_type=HistoryEventType.MapRunFailed,
        event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
            error=error.error_name, cause=cause))))  # fmt: skip


def _s3(reader: ItemReader | ResultWriter, env: Environment, evaluator: type) -> Any:
    reader.resource.eval(env=env)
    runtime = env.stack.pop()
    return evaluator._get_s3_client(runtime, StateCredentials(role_arn=env.aws_execution_details.role_arn))


def _read(self: ItemReader, env: Environment, parameters: dict[str, Any], config: dict[str, Any]) -> list[Any]:
    client = _s3(self, env, ReaderS3)
    extras = getattr(self, "sb_extras", None) or {}
    max_items = config.get("MaxItemsValue")
    if self.resource.api_action.lower() == "listobjectsv2":
        listed = []
        for page in client.get_paginator("list_objects_v2").paginate(**parameters):
            listed.extend(map_items.listed_object(obj) for obj in page.get("Contents", []))
            if max_items and len(listed) >= max_items:
                break
        return listed[:max_items] if max_items else listed
    body = client.get_object(**parameters)["Body"].read()
    # moto's ReaderConfigOutput holds str(enum member) ("InputTypeValue.CSV"): read the declaration instead.
    declared = self.reader_config.input_type.input_type_value.value if self.reader_config else None
    input_type = extras.get("InputType") or declared
    text = body.decode("utf-8-sig")
    if input_type == "CSV":
        return map_items.csv_items(text, header_location=config.get("CSVHeaderLocation", "FIRST_ROW"),
                                   headers=config.get("CSVHeaders"), delimiter=extras.get("CSVDelimiter", "COMMA"),
                                   max_items=max_items)  # fmt: skip
    if input_type == "JSONL":
        return map_items.jsonl_items(text, max_items=max_items)
    if input_type == "MANIFEST":
        found = map_items.inventory(text)
        items: list[Any] = []
        for key in found.keys:
            data = client.get_object(Bucket=found.bucket, Key=key)["Body"].read()
            items.extend(map_items.inventory_items(data, found.columns))
            if max_items and len(items) >= max_items:
                break
        return items[:max_items] if max_items else items
    return map_items.json_items(text, max_items=max_items)  # JSON, or getObject without a ReaderConfig


def _item_reader_eval_body(self: ItemReader, env: Environment) -> None:
    """Replaces `ItemReader._eval_body`.

    Restores: `listObjectsV2` lists every object under the prefix (all pages), each as AWS passes it
    (`Etag`, `Key`, `LastModified` in epoch seconds, `Size`, `StorageClass`; moto gave boto3's first page with
    datetimes, which the execution could not serialise); `getObject` reads CSV with `CSVDelimiter`, JSON,
    JSONL and S3 Inventory manifests (`MANIFEST`); `MaxItems` applies to every source; a source that cannot
    be read, or that S3 refuses, fails with `States.ItemReaderFailed`."""
    config: dict[str, Any] = {}
    if self.reader_config:
        self.reader_config.eval(env=env)
        config = env.stack.pop()
    if self.parargs:
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
    else:
        parameters = {}
    try:
        items = _read(self, env, parameters, config)
    except map_items.ItemReaderFailed as exc:
        raise _item_reader_failed(env, str(exc)) from None
    except UnicodeDecodeError:
        raise _item_reader_failed(env, "The file is not UTF-8 text.") from None  # (guess)
    except ClientError as exc:  # S3 refused (no such key or bucket, access denied): the reader failed
        error = exc.response.get("Error", {})
        raise _item_reader_failed(env, f"S3 {self.resource.api_action} failed: {error.get('Code')}: "
                                       f"{error.get('Message')}") from None  # (guess at AWS's wording)
    env.stack.append(items)


def _result_writer_eval_body(self: ResultWriter, env: Environment) -> None:
    """Replaces `ResultWriter._eval_body`.

    Restores: the results are written by the map run as it ends (`write_results`), under its own map run id
    and with every child's file; moto wrote here a manifest with empty `ResultFiles` for the last map run of the
    execution, whichever state it belonged to. The state's result is already on the stack."""


def write_results(state: StateMap, env: Environment, map_run_arn: str,
                  children: list[map_items.Child]) -> dict[str, Any]:  # fmt: skip
    """Put the map run's result files and manifest (last) and return the state's result."""
    writer = state.result_writer
    writer.parargs.eval(env=env)
    parameters = env.stack.pop()
    bucket, prefix = parameters.get("Bucket"), parameters.get("Prefix", "")
    try:
        client = _s3(writer, env, WriterS3)
        manifest_key, objects = map_items.result_files(prefix or "", map_run_arn, bucket, children)
        for key in sorted(objects, key=lambda k: k == manifest_key):
            client.put_object(Bucket=bucket, Key=key, Body=objects[key])
    except Exception as exc:  # any failure to put is the writer's
        error = StatesErrorName(typ=StatesErrorNameType.StatesResultWriterFailed)
        raise FailureEventException(FailureEvent(
            env=env, error_name=error, event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                error=error.error_name, cause=str(exc))))) from None  # fmt: skip
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def _positive(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")  # (guess at AWS's wording)
    return value


def _template(template: Any, data: Any, context: Any) -> Any:
    """A JSONPath payload template (`"k.$": "$.x"` / `"$$.Execution.Id"`); intrinsic functions are not read."""
    if isinstance(template, dict):
        found = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                source = context if value.startswith("$$") else data
                found[key[:-2]] = extract_json(value[1:] if value.startswith("$$") else value, source)
            else:
                found[key] = _template(value, data, context)
        return found
    if isinstance(template, list):
        return [_template(v, data, context) for v in template]
    return template


def batch_settings(state: StateMap | None, env: Environment) -> dict[str, Any] | None:
    """The ItemBatcher's limits and BatchInput for this run (paths read from the state's input), or None."""
    batcher = extras_of(state).get("ItemBatcher")
    if not isinstance(batcher, dict):
        return None
    data = env.states.get_input()
    context = env.states.context_object.context_object_data

    def read(name: str) -> Any:
        if f"{name}Path" in batcher:
            return extract_json(batcher[f"{name}Path"], data)
        return batcher.get(name)

    return {"max_items": _positive(read("MaxItemsPerBatch"), "MaxItemsPerBatch"),
            "max_bytes": _positive(read("MaxInputBytesPerBatch"), "MaxInputBytesPerBatch"),
            "batch_input": _template(batcher["BatchInput"], data, context) if "BatchInput" in batcher else None}


register(
    [
        (AmazonStateLanguageParser, "parse", staticmethod(_parse)),
        (ItemReader, "_eval_body", _item_reader_eval_body),
        (ResultWriter, "_eval_body", _result_writer_eval_body),
    ],
    [
        Seam(AmazonStateLanguageParser, "parse", ("definition",), _parse.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_io.py::test_item_batcher_groups_items_with_the_batch_input"),
        Seam(ItemReader, "_eval_body", ("self", "env"), _item_reader_eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_io.py::test_list_objects_v2_reads_every_object_under_the_prefix"),
        Seam(ResultWriter, "_eval_body", ("self", "env"), _result_writer_eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_io.py::test_result_writer_writes_the_manifest_and_one_file_per_status"),
    ],
)

"""Parse a state machine's definition and a JSONPath once, not on every use.

moto's interpreter parses the definition with ANTLR on every StartExecution (and again at
CreateStateMachine, in its static analyser and in ours): 70-150 ms of CPU for the reference pipeline, the
largest single cost of starting an execution. It also builds a new JSONPath parser (ply's yacc tables) for
every path it evaluates, ~0.6 ms each, several per state. Profiled with py-spy on a 40-state Pass chain
(bench/bench_clock.py), the two were half the interpreter's CPU.

Both parses are pure functions of a string, so their results are cached (bounded LRU, like a compiled
regex). The definition's cache is applied through `sfn_map_io`'s row on `AmazonStateLanguageParser.parse`
(one module owns each moto attribute). The ANTLR tree is only read afterwards, so one tree serves every execution; the evaluation
components are still built fresh for each one by moto's `Preprocessor`, since they hold per-execution
state. A definition with syntax errors is not cached: it raises as before.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from antlr4 import CommonTokenStream, InputStream, ParserRuleContext
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException, SyntaxErrorListener
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import json_path

from sim.aws.moto_seams.core import Seam, register

__all__ = ["jsonpath", "parse_program", "parse_tree"]

_SFN = "tests/sim/aws/sfn/test_parse_cache.py::"


@functools.lru_cache(maxsize=256)
def parse_tree(definition: str) -> ParserRuleContext:
    """The definition's ANTLR tree; raises `ASLParserException` (not cached) on a syntax error."""
    listener = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_machine()
    if listener.errors:
        raise ASLParserException(errors=listener.errors)
    return tree


def parse_program(definition: str) -> tuple[EvalComponent, ParserRuleContext]:
    """What `AmazonStateLanguageParser.parse` returns, from the cached tree: the program is preprocessed
    afresh on every call, as moto does. `sfn_map_io`'s row on that staticmethod calls this."""
    tree = parse_tree(definition)
    return Preprocessor().visit(tree), tree


@functools.lru_cache(maxsize=1024)
def jsonpath(path: str) -> Any:
    """Replaces `parse` (jsonpath_ng.ext's) in moto's `json_path` module.

    Adds: each JSONPath is parsed once (jsonpath_ng builds a new ply parser per call); the parsed
    expression is immutable, so `find` on it from any thread is as before."""
    return jsonpath_ng.ext.parse(path)


@functools.lru_cache(maxsize=1024)
def _jsonpath(path: str) -> Any:
    """Replaces `parse` (jsonpath_ng's) in moto's `result_path` module, as `jsonpath` does."""
    return jsonpath_ng.parse(path)


register(
    [
        (json_path, "parse", jsonpath),
        (result_path, "parse", _jsonpath),
    ],
    [
        Seam(json_path, "parse", ("path", "debug"), jsonpath.__doc__ or "",
             proved_by=_SFN + "test_a_jsonpath_is_parsed_once_however_many_states_read_it"),
        Seam(result_path, "parse", ("string",), _jsonpath.__doc__ or "",
             proved_by=_SFN + "test_a_jsonpath_is_parsed_once_however_many_states_read_it"),
    ],
)

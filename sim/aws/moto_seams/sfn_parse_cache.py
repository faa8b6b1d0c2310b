"""Parse a state machine's definition and a JSONPath once, not on every use.

moto's interpreter parses the definition with ANTLR on every StartExecution (and again at
CreateStateMachine, in its static analyser and in ours): 70-150 ms of CPU for the reference pipeline, the
largest single cost of starting an execution. It also builds a new JSONPath parser (ply's yacc tables) for
every path it evaluates, ~0.6 ms each, several per state. Profiled with py-spy on a 40-state Pass chain
(bench/bench_clock.py), the two were half the interpreter's CPU.

Both parses are pure functions of a string, so their results are cached (bounded LRU, like a compiled
regex). The definition's cache is applied through `sfn_map_io`'s row on `AmazonStateLanguageParser.parse`
(one module owns each moto attribute). The ANTLR tree is only read afterwards, so one tree serves every
execution; the evaluation components are still built fresh for each one by moto's `Preprocessor`, since
they hold per-execution state. A definition with syntax errors is not cached: it raises as before.

That preprocessing spent half its time in ANTLR's `RuleContext.getText`, which rebuilds a node's text from
its whole subtree on every call (the preprocessor asks for every state's name, type and fields). A cached
tree never changes, so each node's text is computed once, bottom-up, when the tree is made, and `getText`
returns it (2.86 → 1.40 ms to preprocess a 40-state chain); a tree being parsed, or any other ANTLR tree,
has no stored text and is read as before.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from antlr4 import CommonTokenStream, InputStream, ParserRuleContext
from antlr4.RuleContext import RuleContext
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
    _freeze_text(tree)
    return tree


_ORIGINAL_GET_TEXT = RuleContext.getText
_TEXT = "sb_text"


def _freeze_text(root: RuleContext) -> None:
    """Store every rule node's text on it, children before parents (each text joins its children's)."""
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(c for c in (getattr(node, "children", None) or ()) if isinstance(c, RuleContext))
    for node in reversed(order):
        parts = [getattr(c, _TEXT, None) if isinstance(c, RuleContext) else c.getText()
                 for c in (getattr(node, "children", None) or ())]  # fmt: skip
        if any(part is None for part in parts):
            continue  # a child without stored text (slotted): this node is read as before
        try:
            setattr(node, _TEXT, "".join(parts))
        except AttributeError:  # a context class with __slots__ only
            continue


def get_text(self: RuleContext) -> str:
    """Replaces `RuleContext.getText` of ANTLR's runtime, on which moto's ASL parser is built.

    Adds: the text of a node of a cached definition's tree is read from the node (`_freeze_text`), not
    rebuilt from its subtree on every call; any other node's text is rebuilt as before."""
    text = getattr(self, _TEXT, None)
    return _ORIGINAL_GET_TEXT(self) if text is None else text


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
        (RuleContext, "getText", get_text),
    ],
    [
        Seam(json_path, "parse", ("path", "debug"), jsonpath.__doc__ or "",
             proved_by=_SFN + "test_a_jsonpath_is_parsed_once_however_many_states_read_it"),
        Seam(result_path, "parse", ("string",), _jsonpath.__doc__ or "",
             proved_by=_SFN + "test_a_jsonpath_is_parsed_once_however_many_states_read_it"),
        Seam(RuleContext, "getText", ("self",), get_text.__doc__ or "",
             proved_by=_SFN + "test_the_text_of_a_cached_definition_is_read_not_rebuilt"),
    ],
)

"""JSONata as Step Functions evaluates it, on `jsonata-python` (no JVM).

Step Functions binds `$states` and the execution's variables, adds six functions of its own
($partition, $range, $hash, $random, $uuid, $parse) and forbids `$eval`
(developer guide, "Transforming data with JSONata in Step Functions"). This module knows nothing
about moto: `evaluate(expression, bindings)` returns the value or raises `Undefined` /
`EvaluationError`, and `sfn_language` turns those into AWS's `States.QueryEvaluationError`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jsonata
from jsonata.functions import Functions
from jsonata.utils import Utils

from sim import clock
from sim import context as sim_context

__all__ = ["AWS_FUNCTIONS", "EvaluationError", "Undefined", "compile_check", "evaluate", "from_jsonata", "to_jsonata"]

_NULL = Utils.NULL_VALUE
# AWS's $hash accepts exactly these names (States.Hash takes the same list).
_HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5, "SHA-1": hashlib.sha1, "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384, "SHA-512": hashlib.sha512,
}


class Undefined(Exception):
    """The expression produced nothing: JSON cannot carry JSONata's `undefined`."""


class EvaluationError(Exception):
    """The expression failed to parse or threw while evaluating; `str()` is JSONata's `CODE: message`."""


def to_jsonata(value: Any) -> Any:
    """JSON → jsonata-python: its engine reads Python `None` as *undefined*, so JSON null needs its marker."""
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {k: to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonata(v) for v in value]
    return value


def from_jsonata(value: Any) -> Any:
    """jsonata-python → JSON (sequences become lists, the null marker becomes None, whole floats stay floats)."""
    if value is _NULL:
        return None
    if isinstance(value, dict):
        return {k: from_jsonata(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [from_jsonata(v) for v in value if v is not None]
    if isinstance(value, jsonata.Jsonata.JFunctionCallable):
        raise EvaluationError("the result is a function, which JSON cannot represent")
    return value


# -- the AWS-provided functions --------------------------------------------------------------------

def _partition(array: Any, size: Any) -> list[list[Any]]:
    """$partition(array, chunkSize): consecutive chunks, the last one possibly shorter."""
    items = list(array or [])
    if not isinstance(size, (int, float)) or isinstance(size, bool) or size < 1 or int(size) != size:
        raise EvaluationError("The chunk size of $partition must be a positive integer")
    n = int(size)
    return [items[i:i + n] for i in range(0, len(items), n)]


def _range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    """$range(start, end, step): from start to end inclusive (States.ArrayRange's semantics)."""
    if step == 0:
        raise EvaluationError("The step of $range must not be zero")
    values: list[Any] = []
    current = start
    while (step > 0 and current <= end) or (step < 0 and current >= end):
        values.append(current)
        current += step
    return values


def _hash(value: Any, algorithm: Any) -> str:
    """$hash(value, algorithm): lowercase hex digest; algorithms MD5, SHA-1, SHA-256, SHA-384, SHA-512."""
    digest = _HASH_ALGORITHMS.get(str(algorithm))
    if digest is None:
        raise EvaluationError(f"The hashing algorithm '{algorithm}' is not supported; use one of "
                              f"{', '.join(_HASH_ALGORITHMS)}")
    text = value if isinstance(value, str) else json.dumps(from_jsonata(value), separators=(",", ":"))
    return digest(text.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    """$random([seed]): a float in [0, 1); with a seed, the same seed gives the same number."""
    return random.Random(seed).random() if seed is not None else sim_context.current().ids.fraction("jsonata-random")


def _uuid() -> str:
    """$uuid(): a version 4 UUID."""
    return sim_context.current().ids.uuid("jsonata-uuid")


def _parse(text: Any) -> Any:
    """$parse(jsonString): the JSON value a string holds (AWS's replacement for $eval)."""
    if not isinstance(text, str):
        return text
    try:
        return to_jsonata(json.loads(text))
    except ValueError as exc:
        raise EvaluationError(f"The input to $parse is not valid JSON: {exc}") from exc


def _forbidden_eval(*_: Any) -> Any:
    raise EvaluationError("The function $eval is not supported in Step Functions; use $parse")


AWS_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "partition": _partition, "range": _range, "hash": _hash, "random": _random, "uuid": _uuid,
    "parse": _parse, "eval": _forbidden_eval,
}
_LAMBDAS = {name: jsonata.Jsonata.JLambda(function) for name, function in AWS_FUNCTIONS.items()}


def _clock_functions(millis: int) -> dict[str, Any]:
    """$now() and $millis() on the simulator's clock, fixed for one evaluation as JSONata specifies."""

    def now(picture: Any = None, timezone: Any = None) -> Any:
        return Functions.datetime_from_millis(millis, picture, timezone)

    return {"now": jsonata.Jsonata.JLambda(now), "millis": jsonata.Jsonata.JLambda(lambda: millis)}


# -- evaluation -------------------------------------------------------------------------------------

_compiled = threading.local()


def _compile(expression: str) -> jsonata.Jsonata:
    """Parse once per thread (a parsed expression keeps per-evaluation state, so threads don't share one)."""
    cache: dict[str, jsonata.Jsonata] = getattr(_compiled, "cache", None) or {}
    _compiled.cache = cache
    compiled = cache.get(expression)
    if compiled is None:
        if len(cache) > 512:
            cache.clear()
        try:
            compiled = jsonata.Jsonata(expression)
        except jsonata.JException as exc:
            raise EvaluationError(_message(exc)) from exc
        compiled.set_output_convert_nulls(False)
        cache[expression] = compiled
    return compiled


_OBJECT_WORDING = re.compile(r"\bObject (?:\"?)([$\w]+)(?:\"?)")


def _message(exc: Exception) -> str:
    """`CODE: message` as jsonata-js words it (the Python port says "Object" where jsonata-js says "function")."""
    code = getattr(exc, "error", None)
    text = str(exc).replace("Object signature", "function signature")
    text = _OBJECT_WORDING.sub(lambda m: f'function "{m.group(1)}"', text)
    return f"{code}: {text}" if code and not text.startswith(str(code)) else text


def compile_check(expression: str) -> None:
    """Raise EvaluationError if `expression` does not parse (AWS refuses such definitions at creation)."""
    compiled = _compile(expression)
    errors = compiled.get_errors()
    if errors:
        raise EvaluationError(_message(errors[0]))


def evaluate(expression: str, bindings: Mapping[str, Any]) -> Any:
    """Evaluate `expression` with `bindings` (name without `$` → JSON value); AWS functions are bound
    first so a variable of the same name wins, as on AWS. Returns JSON; raises Undefined / EvaluationError."""
    compiled = _compile(expression)
    frame: dict[str, Any] = dict(_LAMBDAS)
    frame.update(_clock_functions(clock.now_ms()))
    frame.update({name: to_jsonata(value) for name, value in bindings.items()})
    try:
        result = compiled.evaluate(None, frame)
    except EvaluationError:
        raise
    except jsonata.JException as exc:
        raise EvaluationError(_message(exc)) from exc
    except RecursionError as exc:
        raise EvaluationError("U1001: Stack overflow error: Check for non-terminating recursive function") from exc
    except Exception as exc:  # the engine's own bugs surface as Python errors; AWS would name an error
        raise EvaluationError(f"{type(exc).__name__}: {exc}") from exc
    if result is None:
        raise Undefined(expression)
    if isinstance(result, jsonata.Jsonata.JFunctionCallable):
        raise EvaluationError("the result is a function, which JSON cannot represent")
    return from_jsonata(result)

"""IAM policy evaluation as the IAM user guide documents it, for identity-based and resource-based policies.

moto's evaluator matches `Action` case-sensitively, ignores `NotResource`, knows one condition operator
(`StringEquals`, and a failed condition there is an explicit *deny*) and no principals beyond `*`. This one
follows the IAM JSON policy reference: "Policy evaluation logic" (a matching Deny wins, else a matching
Allow, else an implicit deny), "IAM JSON policy elements: Condition operators" (String*, Arn*, Numeric*,
Date*, Bool, IpAddress, Null; `...IfExists`; the `ForAnyValue:`/`ForAllValues:` set qualifiers; a key absent from the
request fails a positive operator and satisfies a negated one), "Principal" (`*`, account ids and
`:root`, role, user and assumed-role ARNs, service principals) and policy variables (`${aws:username}`).
It imports nothing of moto's: the caller passes plain documents and a request context.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Caller", "Decision", "combine", "evaluate"]


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit deny
    NONE = "none"  # nothing matched: an implicit deny unless another policy allows


@dataclass(frozen=True)
class Caller:
    """Who asks, as a resource-based policy's `Principal` can name them."""

    arn: str = ""  # the user or assumed-role session ARN
    account: str = ""
    role_arn: str = ""  # for an assumed-role session, the role's ARN
    service: str = ""  # a service principal (s3.amazonaws.com) acting on its own behalf
    names: frozenset[str] = field(default_factory=frozenset)

    def matches(self, value: str) -> bool:
        if value == "*":
            return True
        if re.fullmatch(r"\d{12}", value):
            return value == self.account
        if value.endswith(":root"):
            return value.split(":")[4] == self.account
        return value in (self.arn, self.role_arn) or _role_by_name(value, self.role_arn)


def _role_by_name(value: str, role_arn: str) -> bool:
    """A role ARN written without the role's path names the same role (the name is unique per account)."""
    if not role_arn or ":role/" not in value:
        return False
    same_account = value.split(":")[4:5] == role_arn.split(":")[4:5]
    return same_account and value.rsplit("/", 1)[-1] == role_arn.rsplit("/", 1)[-1]


def evaluate(document: str | Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any],
             caller: Caller | None = None) -> Decision:
    """The decision of one policy for `action` (e.g. `s3:GetObject`) on `resource` in `context`. A
    resource-based policy is evaluated with the `caller` its `Principal` elements are matched against."""
    policy = json.loads(document) if isinstance(document, str | bytes) else document
    statements = policy.get("Statement") or []
    keys = {str(key).lower(): value for key, value in context.items()}
    decision = Decision.NONE
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or not _applies(statement, action, resource, keys, caller):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.DENY
        if statement.get("Effect") == "Allow":
            decision = Decision.ALLOW
    return decision


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _applies(statement: dict[str, Any], action: str, resource: str, keys: dict[str, Any],
             caller: Caller | None) -> bool:
    if "NotAction" in statement:
        if any(_glob(pattern, action, fold=True) for pattern in _listed(statement["NotAction"])):
            return False
    elif not any(_glob(pattern, action, fold=True) for pattern in _listed(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(_glob(_substitute(p, keys), resource) for p in _listed(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(_glob(_substitute(p, keys), resource)
                                             for p in _listed(statement["Resource"])):
        return False
    if caller is not None and not _principal_matches(statement, caller):
        return False
    return _conditions_hold(statement.get("Condition") or {}, keys)


def _principal_matches(statement: dict[str, Any], caller: Caller) -> bool:
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], caller)
    if "Principal" not in statement:
        return True  # an identity-based statement evaluated as a resource's: no principal to match
    return _names(statement["Principal"], caller)


def _names(principal: Any, caller: Caller) -> bool:
    if isinstance(principal, str):  # "*", or a bare ARN / account / service as moto's AddPermission stores it
        return caller.matches(principal) or (bool(caller.service) and principal == caller.service)
    if not isinstance(principal, dict):
        return False
    if any(caller.matches(value) for value in _listed(principal.get("AWS"))):
        return True
    return bool(caller.service) and caller.service in _listed(principal.get("Service"))


def _glob(pattern: str, value: str, *, fold: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(text: str, keys: dict[str, Any]) -> str:
    """Policy variables (`${aws:username}`) from the request context; special characters `${*}`, `${?}`,
    `${$}` as themselves; a variable with no value leaves the element unmatched (AWS: "the policy does
    not match")."""
    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name in ("*", "?", "$"):
            return "\0" + name  # kept literal below
        known = keys.get(name.lower())
        return str(known[0] if isinstance(known, list) and known else known) if known is not None else "\0\0"
    substituted = _VARIABLE.sub(value, text)
    return substituted if "\0\0" not in substituted else "\0unmatchable\0"


# -- condition operators ------------------------------------------------------------------------------

def _string_like(pattern: str, value: str) -> bool:
    return _glob(pattern, value)


def _numeric(compare: Any) -> Any:
    def check(expected: str, actual: str) -> bool:
        try:
            return bool(compare(float(actual), float(expected)))
        except ValueError:
            return False
    return check


def _ip_in(network: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _instant(value: str) -> datetime.datetime | None:
    """A Date operator's value: ISO 8601 (`2026-01-01T00:00:00Z`) or epoch seconds."""
    try:
        if value.isdigit():
            return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
    except ValueError:
        return None


def _date(compare: Any) -> Any:
    def check(expected: str, actual: str) -> bool:
        left, right = _instant(actual), _instant(expected)
        return left is not None and right is not None and bool(compare(left, right))
    return check


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (wildcards within a part)."""
    expected, actual = pattern.split(":", 5), value.split(":", 5)
    return len(expected) == len(actual) == 6 and all(_glob(e, a) for e, a in zip(expected, actual, strict=True))


# operator -> (comparison of one policy value with one request value, negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "stringequals": (lambda e, a: e == a, False),
    "stringnotequals": (lambda e, a: e == a, True),
    "stringequalsignorecase": (lambda e, a: e.lower() == a.lower(), False),
    "stringnotequalsignorecase": (lambda e, a: e.lower() == a.lower(), True),
    "stringlike": (_string_like, False),
    "stringnotlike": (_string_like, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
    "numericequals": (_numeric(lambda a, e: a == e), False),
    "numericnotequals": (_numeric(lambda a, e: a == e), True),
    "numericlessthan": (_numeric(lambda a, e: a < e), False),
    "numericlessthanequals": (_numeric(lambda a, e: a <= e), False),
    "numericgreaterthan": (_numeric(lambda a, e: a > e), False),
    "numericgreaterthanequals": (_numeric(lambda a, e: a >= e), False),
    "bool": (lambda e, a: e.lower() == a.lower(), False),
    "ipaddress": (_ip_in, False),
    "notipaddress": (_ip_in, True),
    "dateequals": (_date(lambda a, e: a == e), False),
    "datenotequals": (_date(lambda a, e: a == e), True),
    "datelessthan": (_date(lambda a, e: a < e), False),
    "datelessthanequals": (_date(lambda a, e: a <= e), False),
    "dategreaterthan": (_date(lambda a, e: a > e), False),
    "dategreaterthanequals": (_date(lambda a, e: a >= e), False),
}


def _conditions_hold(conditions: Mapping[str, Any], keys: dict[str, Any]) -> bool:
    """Every operator block, every key in it (AND); the values listed for a key are alternatives (OR)."""
    for operator, block in conditions.items():
        if not isinstance(block, dict):
            return False
        for key, expected in block.items():
            if not _condition_holds(str(operator), str(key).lower(), _listed(expected), keys):
                return False
    return True


def _condition_holds(operator: str, key: str, expected: list[str], keys: dict[str, Any]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    name = name.lower()
    present = key in keys and keys[key] is not None
    if name == "null":
        return (not present) == (expected[0].lower() == "true") if expected else False
    if_exists = name.endswith("ifexists")
    name = name[:-len("ifexists")] if if_exists else name
    known = _OPERATORS.get(name)
    if known is None:
        return False  # an operator this evaluator does not know never matches
    compare, negated = known
    if not present:
        return if_exists or negated
    actual = keys[key]
    values = [str(v) for v in actual] if isinstance(actual, list) else [_text(actual)]
    expected = [_substitute(e, keys) for e in expected]

    def one(value: str) -> bool:
        hit = any(compare(e, value) for e in expected)
        return not hit if negated else hit

    if qualifier.lower() == "forallvalues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)  # single-valued keys and ForAnyValue


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def combine(decisions: Iterable[Decision]) -> Decision:
    """Several policies of one kind as one: any explicit deny, else any allow."""
    result = Decision.NONE
    for decision in decisions:
        if decision is Decision.DENY:
            return Decision.DENY
        if decision is Decision.ALLOW:
            result = Decision.ALLOW
    return result

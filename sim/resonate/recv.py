"""Where a task goes: the `recv` addresses the SDK's long-poll message source advertises.

`poll://uni@<group>/<id>` is one process (its subscription answers); `poll://any@<group>/<id>` is any
process of the group, that one first if it is connected (resonate-sdk 0.6.7, `message_sources/poller.py`
and `conventions/remote.py`). The server's structured form `{"type": "poll", "data": {"group", "id"}}`
is accepted too. Anything else (an HTTP push target) is stored but never delivered here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_POLL = re.compile(r"^poll://(?:(uni|any)@)?([^/]+)(?:/(.+))?$")


@dataclass(frozen=True)
class Address:
    cast: str  # "uni" or "any"
    group: str
    id: str | None


def normalize(recv: Any) -> str:
    """The stored form of a request's `recv` (a string, or JSON for the structured form)."""
    return recv if isinstance(recv, str) else json.dumps(recv, sort_keys=True)


def parse(recv: str) -> Address | None:
    if recv.startswith("{"):
        data = json.loads(recv)
        if data.get("type") != "poll":
            return None
        inner = data.get("data") or {}
        return Address("uni" if inner.get("id") else "any", str(inner.get("group", "default")), inner.get("id"))
    match = _POLL.match(recv)
    if match is None:
        return None
    return Address(match.group(1) or "any", match.group(2), match.group(3))

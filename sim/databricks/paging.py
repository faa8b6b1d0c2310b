"""Pagination as the clients loop over it.

databricks-sdk and Airflow follow `next_page_token` until it is missing or empty; the legacy CLI uses
`offset` + `has_more`. So: `next_page_token` only when more remain (never an empty string), and
`has_more` always. Page tokens are opaque to clients; here they encode the offset.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Generic, TypeVar

from sim.databricks.errors import InvalidParameterValue

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    next_page_token: str | None
    prev_page_token: str | None


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(value)
    except ValueError as e:
        raise InvalidParameterValue(f"Invalid page token: {token}") from e


def paginate(items: list[T], *, limit: int, offset: int, page_token: str | None) -> Page[T]:
    if offset < 0:
        raise InvalidParameterValue(f"offset must be non-negative, got {offset}.")
    start = decode_token(page_token) if page_token else offset
    end = start + limit
    has_more = end < len(items)
    return Page(
        items=items[start:end],
        has_more=has_more,
        next_page_token=encode_token(end) if has_more else None,
        prev_page_token=encode_token(max(0, start - limit)) if start > 0 else None,
    )


def page_fields(page: Page[object], key: str, items: list[object]) -> dict[str, object]:
    """The response: `key` absent when empty (as the API does), tokens only when they lead somewhere."""
    body: dict[str, object] = {"has_more": page.has_more}
    if items:
        body[key] = items
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    if page.prev_page_token:
        body["prev_page_token"] = page.prev_page_token
    return body

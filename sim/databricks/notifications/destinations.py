"""Notification destinations (`/api/2.0/notification-destinations`, databricks-sdk
`w.notification_destinations`): the webhook endpoints `webhook_notifications` refer to by id.

Only `generic_webhook` destinations deliver (a POST of the job event, see `notifier.py`); secrets are
answered as `*_set` flags, never echoed, as the API does.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sim.databricks.errors import DatabricksError, InvalidParameterValue
from sim.databricks.store import Store

TYPES = {"generic_webhook": "WEBHOOK", "slack": "SLACK", "microsoft_teams": "MICROSOFT_TEAMS",
         "pagerduty": "PAGERDUTY", "email": "EMAIL"}
SECRETS = ("url", "username", "password", "integration_key")


class DestinationDoesNotExist(DatabricksError):
    status, error_code = 404, "RESOURCE_DOES_NOT_EXIST"


class Destinations:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {d["id"]: d for d in store.all("notification_destination")}

    def create(self, display_name: str | None, config: dict[str, Any] | None) -> dict[str, Any]:
        kinds = [k for k in (config or {}) if k in TYPES]
        if len(kinds) != 1:
            raise InvalidParameterValue("config must set exactly one destination type.")
        item = {"id": str(uuid.uuid4()), "display_name": display_name or "", "config": config,
                "destination_type": TYPES[kinds[0]]}
        with self._lock:
            self._items[item["id"]] = item
            self._store.put("notification_destination", item["id"], item)
        return self.to_api(item)

    def raw(self, destination_id: str) -> dict[str, Any]:
        item = self._items.get(destination_id)
        if item is None:
            raise DestinationDoesNotExist(f"Notification destination {destination_id} does not exist.")
        return item

    def get(self, destination_id: str) -> dict[str, Any]:
        return self.to_api(self.raw(destination_id))

    def list(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in self.to_api(i).items() if k != "config"} for i in self._items.values()]

    def delete(self, destination_id: str) -> None:
        self.raw(destination_id)
        with self._lock:
            del self._items[destination_id]
            self._store.delete("notification_destination", destination_id)

    @staticmethod
    def to_api(item: dict[str, Any]) -> dict[str, Any]:
        config = {}
        for kind, fields in item["config"].items():
            config[kind] = {f"{k}_set" if k in SECRETS else k: (True if k in SECRETS else v)
                            for k, v in fields.items()}
        return {"id": item["id"], "display_name": item["display_name"],
                "destination_type": item["destination_type"], "config": config}

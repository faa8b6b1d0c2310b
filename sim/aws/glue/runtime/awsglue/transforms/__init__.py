"""`awsglue.transforms`: importable (`from awsglue.transforms import *` is in every generated script),
but no transform is simulated: using one raises `NotSimulated` naming it."""

from __future__ import annotations

from typing import Any

from awsglue.errors import NotSimulated

# The transforms aws-glue-libs exports (awsglue/transforms/__init__.py).
_NAMES = ("ApplyMapping", "DropFields", "DropNullFields", "ErrorsAsDynamicFrame", "Filter", "FlatMap", "Join",
          "Map", "MapToCollection", "Relationalize", "RenameField", "ResolveChoice", "SelectFields",
          "SelectFromCollection", "Spigot", "SplitFields", "SplitRows", "Unbox", "UnnestFrame", "DropDuplicates",
          "Union")


def _transform(name: str) -> type:
    def refuse(*_: Any, **__: Any) -> Any:
        raise NotSimulated(f"awsglue.transforms.{name}")

    return type(name, (), {"__new__": refuse, "apply": staticmethod(refuse), "__call__": refuse})


globals().update({name: _transform(name) for name in _NAMES})
__all__ = list(_NAMES)

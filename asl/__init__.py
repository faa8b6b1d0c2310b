"""The pipeline's state machines (`definitions/*.asl.json`) and the library that loads, fills in,
validates and graphs them. Pipeline code: stdlib and statelint only, never `sim` or `harness`."""

from asl.errors import AslError, DefinitionInvalid, DefinitionNotFound, PlaceholderError
from asl.graph import Edge, EdgeKind, Graph, State
from asl.loader import Location, load, names, placeholders, render, substitute
from asl.validate import Problem, check, validate

__all__ = [
    "AslError",
    "DefinitionInvalid",
    "DefinitionNotFound",
    "Edge",
    "EdgeKind",
    "Graph",
    "Location",
    "PlaceholderError",
    "Problem",
    "State",
    "check",
    "load",
    "names",
    "placeholders",
    "render",
    "substitute",
    "validate",
]

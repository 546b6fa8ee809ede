"""Failure types, one small function each, grouped by ecosystem. Importing registers them all."""
from ..case import REGISTRY
from . import (  # noqa: F401  (registration)
    containers,
    infra,
    javascript,
    jvm,
    languages,
    native,
    plumbing,
    project,
    python,
    systems,
    testing,
)

__all__ = ["REGISTRY"]

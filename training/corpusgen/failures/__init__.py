"""Failure types, one small function each, grouped by ecosystem. Importing registers them all."""
from ..case import REGISTRY
from . import containers, infra, javascript, jvm, languages, native, plumbing, project, python, systems, testing  # noqa: F401  (registration)

__all__ = ["REGISTRY"]

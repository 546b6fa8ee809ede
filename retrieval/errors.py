"""The small set of domain errors. Raised anywhere, caught once at the edge (CLI, listener)."""


class CibotError(Exception):
    """An error the user can act on. `hint` says how."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(CibotError):
    """The request itself is malformed: missing argument, empty query."""


class InputError(CibotError):
    """An input file or payload cannot be read or parsed."""


class ConfigError(CibotError):
    """A setting is invalid or a required one is missing."""


class IndexUnavailable(CibotError):
    """The knowledge index is missing, corrupt, locked, or built with another embedding model."""

"""The one exception type every user-facing failure is raised as.

The CLI turns a `StorycError` into its message and an exit code, never a traceback.
"""

from __future__ import annotations


class StorycError(Exception):
    """A failure a writer can act on: the message is one or two plain sentences."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nhint: {self.hint}"


class UsageError(StorycError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2

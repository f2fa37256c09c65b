"""Domain errors. The core and services raise these; one handler in ``cli`` turns each into a
one-line message on stderr and its exit code. Messages never contain names or health values
of a person: they name the field, the option or the file instead.
"""

from __future__ import annotations


class ProbhealthError(Exception):
    """Base class: ``exit_code`` 1 means the operation failed, 2 means bad input or usage."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} {self.hint}"


class BadInput(ProbhealthError):
    """The user gave something we cannot accept. Nothing was changed."""

    exit_code = 2


class NotFound(BadInput):
    """A named record does not exist (a usage error: check the id)."""


class Conflict(BadInput):
    """The request clashes with what is stored (duplicate CRN, invalid state change...)."""


class FileError(BadInput):
    """A definition, answers or import file is unreadable or invalid: ``FILE:LINE: message``."""

    def __init__(
        self, file: str, line: int | None, message: str, *, column: int | None = None
    ) -> None:
        where = f"{file}:{line}" if line else file
        if line and column:
            where += f":{column}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.detail = message


class ConsentRequired(BadInput):
    """An action needs consent that is not recorded."""


class NeedsTerminal(BadInput):
    """A prompt was needed but there is no terminal."""


class Busy(ProbhealthError):
    """Another process held the write lock for too long."""

    def __init__(self) -> None:
        super().__init__(
            "Another user is saving to this database; nothing was changed. Try again in a moment."
        )


class StorageError(ProbhealthError):
    """The database cannot be used (damaged, foreign, newer, unsafe permissions, disk full)."""


class DatabaseRefused(StorageError):
    """The file is not one we may open (foreign, damaged, newer schema): a usage error."""

    exit_code = 2

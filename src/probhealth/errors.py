"""Domain errors. The core and services raise these; one handler in ``cli`` turns each into a
one-line message on stderr and its exit code. Messages never contain names or health values
of a person: they name the field, the option or the file instead.

Services speak no command-line words. An input is named in a message as ``{opt:NAME}``
(the CLI shows ``--NAME``, other front ends plain words), and a next step is a :class:`Remedy`
named by what it does (``record-consent``), which ``cli/remedies.py`` words as a command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_OPT = re.compile(r"\{opt:([a-z][a-z0-9-]*)\}")


def word_options(text: str, word: Callable[[str], str] | None = None) -> str:
    """``text`` with each ``{opt:NAME}`` worded by ``word`` (default: the name in quotes)."""
    return _OPT.sub(lambda m: (word or _plain)(m.group(1)), text)


def _plain(name: str) -> str:
    return f"'{name}'"


@dataclass(frozen=True)
class Remedy:
    """A next step, by name (``record-consent``, ``list-referrals``...) with its arguments;
    the front end words it (the CLI: ``See them with: probhealth referral list``)."""

    action: str
    args: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, action: str, **args: object) -> Remedy:
        return cls(action, {k: str(v) for k, v in args.items() if v is not None})


class ProbhealthError(Exception):
    """Base class: ``exit_code`` 1 means the operation failed, 2 means bad input or usage.

    ``hint`` is plain advice in words; ``remedy`` a next step the front end words."""

    exit_code = 1

    def __init__(
        self, message: str, *, hint: str | None = None, remedy: Remedy | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.remedy = remedy

    def text(self, word: Callable[[str], str] | None = None) -> str:
        """Message and hint, options worded by ``word`` (no remedy: the front end adds it)."""
        whole = self.message if not self.hint else f"{self.message} {self.hint}"
        return word_options(whole, word)

    def __str__(self) -> str:
        return self.text()


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
        self,
        file: str,
        line: int | None,
        message: str,
        *,
        column: int | None = None,
        remedy: Remedy | None = None,
    ) -> None:
        where = f"{file}:{line}" if line else file
        if line and column:
            where += f":{column}"
        super().__init__(f"{where}: {message}", remedy=remedy)
        self.file = file
        self.line = line
        self.column = column
        self.detail = message


class ConsentRequired(BadInput):
    """An action needs consent that is not given (never asked, declined or withdrawn).

    ``purpose`` names the consent purpose missing, ``status`` its current state (None: never
    asked), so a front end can ask the person and record their answer."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        remedy: Remedy | None = None,
        purpose: str | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, remedy=remedy)
        self.purpose = purpose
        self.status = status


class NeedsTerminal(BadInput):
    """A prompt was needed but there is no terminal."""


class Busy(ProbhealthError):
    """Another process held the write lock for too long."""

    def __init__(self) -> None:
        super().__init__(
            "Another user is saving to this database; nothing was changed. Try again in a moment."
        )


class ReadOnlyLogin(BadInput):
    """A server database login that may read but not write (PostgreSQL: no privilege)."""

    def __init__(self) -> None:
        super().__init__(
            "This database login can only read; nothing was saved.",
            hint="Ask whoever runs the database for a login that may write, or use yours.",
        )


class StorageError(ProbhealthError):
    """The database cannot be used (damaged, foreign, newer, unsafe permissions, disk full)."""


class LoginRefused(StorageError):
    """The database server refused the login (wrong or missing password, unknown login): a
    usage error, like a wrong key for an encrypted file."""

    exit_code = 2


class DatabaseRefused(StorageError):
    """The file is not one we may open (foreign, damaged, newer schema): a usage error."""

    exit_code = 2

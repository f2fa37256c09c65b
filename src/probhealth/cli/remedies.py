"""How the command line words what services name: ``{opt:NAME}`` becomes ``--NAME`` and a
:class:`~probhealth.errors.Remedy` becomes a command to run. Services never write these words
themselves, so another front end (the shell, a future web page) can word them its own way.

Every remedy a service may name is in ``REMEDIES``; a test checks each one is worded here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping

from probhealth.errors import ProbhealthError, Remedy, word_options


def _q(value: str) -> str:
    return shlex.quote(value)


def _opt(name: str) -> str:
    return f"--{name}"


def _consent(a: Mapping[str, str]) -> str:
    line = f"If they agree, record it with: probhealth consent {_q(a['crn'])} --purpose {a['purpose']} --given"
    if a.get("or_self_referral"):
        line += " (or make it a --self-referral)"
    return line + "."


REMEDIES: dict[str, Callable[[Mapping[str, str]], str]] = {
    "record-consent": _consent,
    "list-people": lambda a: "List people with: probhealth person list",
    "show-person": lambda a: f"See them with: probhealth person show {_q(a['crn'])}",
    "list-needs": lambda a: (
        f"See a person's needs with: probhealth need list {_q(a.get('crn', 'CRN'))}"
    ),
    "list-barriers": lambda a: f"See it with: probhealth barrier list {_q(a['crn'])}",
    "list-services": lambda a: (
        "See them with: probhealth services list"
        + (f" --pathway {_q(a['pathway'])}" if a.get("pathway") else "")
    ),
    "show-rules": lambda a: "See them with: probhealth rules show",
    "update-referral": lambda a: (
        f"Update it with: probhealth referral update {a['id']} --status ..."
    ),
    "list-referrals": lambda a: "List them with: probhealth referral list",
    "list-goals": lambda a: "List a person's goals with: probhealth goal list CRN",
    "list-screenings": lambda a: "List a person's screenings with: probhealth screening list CRN",
    "screen": lambda a: f"Run one with: probhealth screen {_q(a['crn'])}",
    # Files: every path is shell-quoted, so a hint pasted into a shell runs one command.
    "restrict-file": lambda a: f"Fix it with: chmod 600 {_q(a['path'])}",
    "restrict-folder": lambda a: f"Fix it with: chmod 700 {_q(a['path'])}",
    "move-aside": lambda a: (
        "If no program is using the database, move it away with: "
        f"mv {_q(a['path'])} {_q(a['path'] + '.bad')}"
    ),
    "new-screening": lambda a: f"Start a new one with: probhealth screen {_q(a['crn'])} --new",
    "new-screening-file": lambda a: (
        f"Save it again with: probhealth screen {_q(a['crn'])} --answers {_q(a['file'])} --new"
    ),
    "register-gp-first": lambda a: (
        f"Record the GP sign-up with: probhealth refer {_q(a['crn'])} gp-registration"
    ),
    "take-over-screening": lambda a: (
        f"Take it over with: probhealth screen {_q(a['crn'])} --take-over"
    ),
    "list-transfer-conflicts": lambda a: "List them with: probhealth transfer conflicts",
    # The database: what to do with one that is damaged or reports an error.
    "check-db": lambda a: "Run `probhealth db check`.",
    "restore-backup": lambda a: "Restore it from a backup (see `probhealth db backup`).",
    "encrypt-db": lambda a: "Encrypt it with: probhealth db encrypt",
    "rekey-db": lambda a: "Change its key with: probhealth db rekey",
    "backup-db": lambda a: "Copy it with: probhealth db backup",
    "pg-dump": lambda a: (
        "For example: pg_dump --format=custom --file=probhealth.dump DBNAME "
        "(a dump holds every record: keep it as safe as the database)."
    ),
    "restore-or-check-db": lambda a: "Restore it from a backup, or run `probhealth db check`.",
    # A definition file with several problems: the check command lists them all.
    "check-definition": lambda a: (
        f"(and {a['more']} more problem{'' if a['more'] == '1' else 's'}; to see them all, run:"
        f" probhealth {a['kind']} check {_q(a['path'])})"
    ),
}


def word(remedy: Remedy) -> str:
    """The remedy as a line to show (a command the worker can copy)."""
    return REMEDIES[remedy.action](remedy.args)


def explain(exc: ProbhealthError) -> str:
    """The whole line for an error: message, advice, and the command that helps."""
    text = exc.text(_opt)
    if exc.remedy is not None:
        text += " " + word(exc.remedy)
    return text


def words(text: str) -> str:
    """A service's sentence with its ``{opt:NAME}`` worded as options."""
    return word_options(text, _opt)

"""Definitions: the one place that finds, loads, caches and stores the questionnaires, rules
and service files, bundled or custom.

Loading is cached per file path and modification time; a questionnaire stored with a screening
is cached per content hash, so each is parsed once per process. Services default to the
standard rules themselves: a command loads a definition only when the user names a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probhealth import clock, yamlfile
from probhealth.errors import BadInput, Conflict, NotFound
from probhealth.questionnaire.model import Questionnaire, load_file, load_text
from probhealth.rules.model import RuleSet
from probhealth.rules.model import load_file as load_rules_file
from probhealth.store import screenings as repo
from probhealth.store.models import QuestionnaireDef

if TYPE_CHECKING:
    from probhealth.store.db import Session, Store

DEFAULT_SERVICES = "services-fictional.yaml"
DEMO_ANSWERS = "demo-answers.yaml"


# ---------------------------------------------------------------- questionnaires --------
DEFAULT_QUESTIONNAIRE = "probation-health.yaml"


# ---------------------------------------------------------------- questionnaires --------
def bundled_path(name: str = DEFAULT_QUESTIONNAIRE) -> Path:
    return Path(str(resources.files("probhealth") / "data" / name))


@lru_cache(maxsize=8)
def _load_path(path: str, mtime: float) -> Questionnaire:
    return load_file(Path(path), name=Path(path).name if path == str(bundled_path()) else path)


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """The bundled default questionnaire, or the one in ``path`` (checked; exit 2 if bad)."""
    target = path if path is not None else bundled_path()
    try:
        mtime = target.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _load_path(str(target), mtime)


def find_questionnaire(which: str | None, *, store_factory: Callable[[], Store]) -> Questionnaire:
    """A questionnaire by file path, by ``id`` or ``id@version`` as stored in the database,
    or the bundled default when ``which`` is None."""
    if which is None:
        return load_questionnaire()
    path = Path(which)
    try:
        is_file = path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists()
    except (OSError, ValueError):  # a name too long or with a NUL: not a file, so an id
        is_file = False
    if is_file:
        return load_questionnaire(path)
    qid, _, version_text = which.partition("@")
    if version_text and not version_text.isdigit():
        raise BadInput(f"{which!r}: write the version as a number, e.g. {qid}@1.")
    store = store_factory()
    with store.read() as session:
        row = repo.latest_questionnaire_def(
            session, qid=qid, version=int(version_text) if version_text else None
        )
        if row is not None:
            return from_stored_text(row.id, row.version, row.content_hash, row.source_text)
    bundled = load_questionnaire()
    if qid == bundled.id and (not version_text or int(version_text) == bundled.version):
        return bundled
    raise NotFound(
        f"No questionnaire {which!r} in this database.",
        hint="Give a file path, or an id such as probation-health@3.",
    )


@lru_cache(maxsize=32)
def from_stored_text(qid: str, version: int, content_hash: str, text: str) -> Questionnaire:
    return load_text(text, f"{qid} v{version} (stored)")


def stored_questionnaire(session: Session, qid: str, version: int) -> Questionnaire:
    row = repo.questionnaire_def(session, qid=qid, version=version)
    if row is None:  # pragma: no cover - written in the same transaction as the screening
        raise NotFound(f"The questionnaire {qid} v{version} is missing from the database.")
    return from_stored_text(row.id, row.version, row.content_hash, row.source_text)


def register_questionnaire(session: Session, q: Questionnaire) -> None:
    """Store this questionnaire version (once); refuse a changed file under the same version."""
    row = repo.questionnaire_def(session, qid=q.id, version=q.version)
    if row is None:
        repo.add_questionnaire_def(
            session,
            QuestionnaireDef(
                id=q.id,
                version=q.version,
                content_hash=q.content_hash,
                title=q.title,
                source_text=q.source_text,
                first_used_at=clock.now(),
            ),
        )
    elif row.content_hash != q.content_hash:
        raise Conflict(
            f"The questionnaire {q.id} version {q.version} differs from the one already used in this database.",
            hint="Give the changed file a new version number, so earlier screenings keep their meaning.",
        )


# ---------------------------------------------------------------- rules -----------------
DEFAULT_RULES = "rules.yaml"


@lru_cache(maxsize=8)
def _load_rules(path: str, mtime: float) -> RuleSet:
    q = load_questionnaire()
    p = Path(path)
    return load_rules_file(p, q, name=p.name if path == str(bundled_path(DEFAULT_RULES)) else path)


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules file: ``path``, else ``PROBHEALTH_RULES``, else the bundled default."""
    env = os.environ.get("PROBHEALTH_RULES")
    target = path or (Path(env) if env else bundled_path(DEFAULT_RULES))
    try:
        mtime = target.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _load_rules(str(target), mtime)


# ---------------------------------------------------------------- other files -----------
def bundled_services_path() -> Path:
    """The fictional service directory shipped for the demo."""
    return bundled_path(DEFAULT_SERVICES)


def demo_answers() -> dict[str, Any]:
    """The sample answers the demo uses without a terminal."""
    data = yamlfile.load(bundled_path(DEMO_ANSWERS)).data
    if not isinstance(data, dict):  # pragma: no cover - a bundled file
        raise BadInput(f"{DEMO_ANSWERS} is not a mapping.")
    return data

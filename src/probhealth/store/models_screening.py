"""Screening tables: questionnaire versions, screenings, answers, scores, flags, needs,
barriers. Imported on first use through ``probhealth.store.models`` (see its ``__getattr__``)."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from probhealth.store.models import UTCDateTime, fk, ts  # noqa: F401 - shared column helpers


class QuestionnaireDef(SQLModel, table=True):
    """Each questionnaire version ever used, with its source, so old screenings stay readable
    exactly as they were asked even after the bundled file changes."""

    __tablename__ = "questionnaire_def"
    id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    content_hash: str
    title: str
    source_text: str
    first_used_at: datetime = ts()


class Screening(SQLModel, table=True):
    """One administration of a questionnaire to a person."""

    __tablename__ = "screening"
    __table_args__ = (Index("ix_screening_person_status", "person_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(
        sa_column=Column(String, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    questionnaire_id: str
    questionnaire_version: int
    questionnaire_hash: str
    status: str  # in-progress | completed | abandoned | voided
    setting: str | None = None
    started_by: str
    started_at: datetime = ts()
    updated_at: datetime = ts()
    completed_at: datetime | None = ts(nullable=True)
    abandoned_at: datetime | None = ts(nullable=True)
    # The session working on an in-progress screening (one at a time): a random token, the
    # worker, the computer and process, and since when. Cleared when it finishes or stops.
    held_token: str | None = None
    held_by: str | None = None
    held_host: str | None = None
    held_pid: int | None = None
    held_at: datetime | None = ts(nullable=True)
    # A completed screening entered wrongly, voided (issue 13): kept, never used.
    voided_at: datetime | None = ts(nullable=True)
    voided_by: str | None = None
    void_reason: str | None = None  # wrong-person | entered-in-error | duplicate | other
    void_note: str | None = None


class Answer(SQLModel, table=True):
    """One answer, saved the moment it is confirmed. ``value`` is JSON; a refusal ("prefer
    not to say") has ``declined`` set and no value."""

    __tablename__ = "answer"
    screening_id: int = Field(
        sa_column=Column(ForeignKey("screening.id", ondelete="CASCADE"), primary_key=True)
    )
    item_id: str = Field(primary_key=True)
    value: str | None = None
    declined: bool = False
    # Set at completion for answers to questions the final answers no longer show (after
    # "back"): kept, never scored, never used by rules.
    hidden: bool = False
    answered_by: str
    answered_at: datetime = ts()


class Score(SQLModel, table=True):
    __tablename__ = "score"
    screening_id: int = Field(
        sa_column=Column(ForeignKey("screening.id", ondelete="CASCADE"), primary_key=True)
    )
    scale_id: str = Field(primary_key=True)
    value: int
    band: str | None = None


class Flag(SQLModel, table=True):
    """A safety flag raised during a screening; kept even if a later edit would not raise it."""

    __tablename__ = "flag"
    screening_id: int = Field(
        sa_column=Column(ForeignKey("screening.id", ondelete="CASCADE"), primary_key=True)
    )
    flag_id: str = Field(primary_key=True)
    severity: str
    title: str
    raised_at: datetime = ts()
    acknowledged_at: datetime | None = ts(nullable=True)
    acknowledged_by: str | None = None


class Need(SQLModel, table=True):
    __tablename__ = "need"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = fk("person.id")
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("screening.id", ondelete="SET NULL"), nullable=True),
    )
    domain: str
    severity: str
    status: str  # identified | being-addressed | met | declined
    source: str  # screening | worker
    note: str | None = None
    created_by: str
    created_at: datetime = ts()
    updated_at: datetime = ts()


class Barrier(SQLModel, table=True):
    __tablename__ = "barrier"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = fk("person.id")
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("screening.id", ondelete="SET NULL"), nullable=True),
    )
    type: str
    source: str  # screening | worker
    note: str | None = None
    created_by: str
    created_at: datetime = ts()
    resolved_at: datetime | None = ts(nullable=True)
    resolved_by: str | None = None

"""SQLModel tables: one module, so relationships never import in circles.

No ``from __future__ import annotations`` here: SQLModel reads the annotations at runtime.
Instants are stored as naive UTC (``UTCDateTime`` converts on the way in and re-attaches UTC
on the way out), dates as DATE. The schema itself is created and changed only by the Alembic
migrations in ``store/migrations``; a test checks the two agree.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC (SQLite would silently drop the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _fk(target: str, *, nullable: bool = False, cascade: bool = True) -> Any:
    return Field(
        sa_column=Column(
            String,
            ForeignKey(target, ondelete="CASCADE" if cascade else "SET NULL"),
            nullable=nullable,
            index=True,
        )
    )


def _ts(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class Meta(SQLModel, table=True):
    """Key/value facts about this database (pseudonym key, creation time)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class Person(SQLModel, table=True):
    """Someone on probation. ``id`` is internal (UUID); ``crn`` is the case reference number."""

    __tablename__ = "person"
    id: str = Field(primary_key=True)
    crn: str = Field(sa_column=Column(String, nullable=False, unique=True))
    given_name: str
    family_name: str
    name_key: str = Field(index=True)  # NFKC + casefold of "given family", for search
    dob: date
    sex: str
    postcode: str | None = None
    office: str | None = Field(default=None, index=True)
    language: str | None = None
    needs_interpreter: bool = False
    communication_needs: str | None = None
    release_date: date | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Consent(SQLModel, table=True):
    """One consent decision. History is kept: the latest row per purpose is the current one."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_person_purpose", "person_id", "purpose", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(
        sa_column=Column(String, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    purpose: str
    status: str  # given | declined | withdrawn
    method: str | None = None  # verbal | written
    note: str | None = None
    recorded_by: str
    recorded_at: datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when. Append-only; never names or health values."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str
    action: str
    entity: str
    entity_id: str | None = None
    detail: str = "{}"  # JSON: counts, field names, codes; never values about a person
    prev_hash: str
    hash: str


class QuestionnaireDef(SQLModel, table=True):
    """Each questionnaire version ever used, with its source, so old screenings stay readable
    exactly as they were asked even after the bundled file changes."""

    __tablename__ = "questionnaire_def"
    id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    content_hash: str
    title: str
    source_text: str
    first_used_at: datetime = _ts()


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
    status: str  # in-progress | completed | abandoned
    setting: str | None = None
    started_by: str
    started_at: datetime = _ts()
    updated_at: datetime = _ts()
    completed_at: datetime | None = _ts(nullable=True)
    abandoned_at: datetime | None = _ts(nullable=True)


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
    answered_at: datetime = _ts()


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
    raised_at: datetime = _ts()
    acknowledged_at: datetime | None = _ts(nullable=True)
    acknowledged_by: str | None = None


class Need(SQLModel, table=True):
    __tablename__ = "need"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = _fk("person.id")
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
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Barrier(SQLModel, table=True):
    __tablename__ = "barrier"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = _fk("person.id")
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("screening.id", ondelete="SET NULL"), nullable=True),
    )
    type: str
    source: str  # screening | worker
    note: str | None = None
    created_by: str
    created_at: datetime = _ts()
    resolved_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = None


class Service(SQLModel, table=True):
    """A directory entry. ``data`` holds the whole validated record as JSON; pathways and areas
    are also kept in their own tables so "services for this pathway here" is one indexed query."""

    __tablename__ = "service"
    id: str = Field(primary_key=True)
    name: str
    fictional: bool = False
    data: str
    last_verified: date
    updated_at: datetime = _ts()


class ServicePathway(SQLModel, table=True):
    __tablename__ = "service_pathway"
    service_id: str = Field(
        sa_column=Column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    pathway_id: str = Field(primary_key=True, index=True)


class ServiceArea(SQLModel, table=True):
    __tablename__ = "service_area"
    service_id: str = Field(
        sa_column=Column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    area_key: str = Field(
        primary_key=True, index=True
    )  # casefolded postcode district or office, or "*"


class Suggestion(SQLModel, table=True):
    """What the rules suggested when a screening was completed (a record, not live advice)."""

    __tablename__ = "suggestion"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = _fk("person.id")
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("screening.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    pathway_id: str
    urgency: str
    reasons: str  # JSON list of {rule, because, urgency}
    already_open: bool = False
    rules_id: str
    rules_version: int
    rules_hash: str
    created_at: datetime = _ts()


class Referral(SQLModel, table=True):
    """A pathway taken up, followed until it closes. Every step is a ReferralEvent."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_status_due", "status", "follow_up_due"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = _fk("person.id")
    pathway_id: str
    service_id: str | None = None  # not a foreign key: a directory entry may be removed later
    self_referral: bool = False
    status: str
    urgency: str | None = None
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("screening.id", ondelete="SET NULL"), nullable=True),
    )
    reasons: str = "[]"  # JSON: why it was suggested
    follow_up_due: date | None = None
    outcome: str | None = None
    closed_reason: str | None = None
    created_by: str
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    closed_at: datetime | None = _ts(nullable=True)


class ReferralEvent(SQLModel, table=True):
    __tablename__ = "referral_event"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(
        sa_column=Column(ForeignKey("referral.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    from_status: str | None = None
    to_status: str
    reason: str | None = None
    note: str | None = None
    event_date: date  # when it happened (may be earlier than when it was recorded)
    recorded_by: str
    recorded_at: datetime = _ts()


class Goal(SQLModel, table=True):
    __tablename__ = "goal"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = _fk("person.id")
    text: str
    domain: str | None = None
    target_date: date | None = None
    status: str  # active | achieved | dropped
    created_by: str
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class GoalReview(SQLModel, table=True):
    __tablename__ = "goal_review"
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(
        sa_column=Column(ForeignKey("goal.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    progress: str  # achieved | partly | not-yet | dropped
    note: str | None = None
    reviewed_by: str
    reviewed_at: datetime = _ts()


__all__ = [
    "Answer",
    "AuditEvent",
    "Barrier",
    "Consent",
    "Flag",
    "Goal",
    "GoalReview",
    "Meta",
    "Need",
    "Person",
    "QuestionnaireDef",
    "Referral",
    "ReferralEvent",
    "Score",
    "Screening",
    "Service",
    "ServiceArea",
    "ServicePathway",
    "Suggestion",
    "UTCDateTime",
]

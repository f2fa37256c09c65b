"""Referral tables: service directory, suggestions, referrals and their events, goals.
Imported on first use through ``probhealth.store.models`` (see its ``__getattr__``)."""

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from probhealth.store.models import UTCDateTime, fk, ts  # noqa: F401 - shared column helpers


class Service(SQLModel, table=True):
    """A directory entry. ``data`` holds the whole validated record as JSON; pathways and areas
    are also kept in their own tables so "services for this pathway here" is one indexed query."""

    __tablename__ = "service"
    id: str = Field(primary_key=True)
    name: str
    fictional: bool = False
    data: str
    last_verified: date
    updated_at: datetime = ts()


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
    person_id: str = fk("person.id")
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
    created_at: datetime = ts()


class Referral(SQLModel, table=True):
    """A pathway taken up, followed until it closes. Every step is a ReferralEvent."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_status_due", "status", "follow_up_due"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = fk("person.id")
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
    created_at: datetime = ts()
    updated_at: datetime = ts()
    closed_at: datetime | None = ts(nullable=True)


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
    recorded_at: datetime = ts()


class Goal(SQLModel, table=True):
    __tablename__ = "goal"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = fk("person.id")
    text: str
    domain: str | None = None
    target_date: date | None = None
    status: str  # active | achieved | dropped
    created_by: str
    created_at: datetime = ts()
    updated_at: datetime = ts()


class GoalReview(SQLModel, table=True):
    __tablename__ = "goal_review"
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(
        sa_column=Column(ForeignKey("goal.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    progress: str  # achieved | partly | not-yet | dropped
    note: str | None = None
    reviewed_by: str
    reviewed_at: datetime = ts()

"""SQLModel tables. The core tables (person, consent, audit, meta) are defined here; the
screening and referral tables live in ``models_screening`` and ``models_referral`` and load on
first use through this module's ``__getattr__``, so a command that only reads a person does not
pay for defining twenty tables. There are no ORM relationships, so nothing imports in circles.

No ``from __future__ import annotations`` here: SQLModel reads the annotations at runtime.
Instants are stored as naive UTC (``UTCDateTime`` converts on the way in and re-attaches UTC
on the way out), dates as DATE. The schema itself is created and changed only by the Alembic
migrations in ``store/migrations``; a test checks the two agree.
"""

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

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


def fk(target: str, *, nullable: bool = False, cascade: bool = True) -> Any:
    return Field(
        sa_column=Column(
            String,
            ForeignKey(target, ondelete="CASCADE" if cascade else "SET NULL"),
            nullable=nullable,
            index=True,
        )
    )


def ts(*, nullable: bool = False) -> Any:
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
    nhs_number: str | None = None  # 10 digits, Modulus 11 checked; identifiable exports only
    address: str | None = None  # one line, without the postcode; identifiable exports only
    nation: str | None = None  # england | wales (issue 12); empty: PROBHEALTH_NATION, else england
    stage: str | None = None  # pre-sentence | community-order | ... (validation.STAGES)
    created_at: datetime = ts()
    updated_at: datetime = ts()


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
    recorded_at: datetime = ts()


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when. Append-only; never names or health values."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts()
    actor: str
    action: str
    entity: str
    entity_id: str | None = None
    detail: str = "{}"  # JSON: counts, field names, codes; never values about a person
    prev_hash: str
    hash: str
    # JSON {table: {record id: digest of its content after this event, or null if deleted}}
    # for the records the event's transaction changed; never values (store/digests.py).
    records: str | None = None


if TYPE_CHECKING:  # the real classes, for type checkers; at run time __getattr__ loads them
    from probhealth.store.models_referral import Goal as Goal
    from probhealth.store.models_referral import GoalReview as GoalReview
    from probhealth.store.models_referral import Referral as Referral
    from probhealth.store.models_referral import ReferralEvent as ReferralEvent
    from probhealth.store.models_referral import Service as Service
    from probhealth.store.models_referral import ServiceArea as ServiceArea
    from probhealth.store.models_referral import ServicePathway as ServicePathway
    from probhealth.store.models_referral import Suggestion as Suggestion
    from probhealth.store.models_screening import Answer as Answer
    from probhealth.store.models_screening import Barrier as Barrier
    from probhealth.store.models_screening import Flag as Flag
    from probhealth.store.models_screening import Need as Need
    from probhealth.store.models_screening import QuestionnaireDef as QuestionnaireDef
    from probhealth.store.models_screening import Score as Score
    from probhealth.store.models_screening import Screening as Screening
    from probhealth.store.models_transfer import TransferConflict as TransferConflict
    from probhealth.store.models_transfer import TransferRecord as TransferRecord
    from probhealth.store.models_transfer import TransferSeen as TransferSeen
    from probhealth.store.models_transfer import TransferSent as TransferSent

_LAZY = {
    **dict.fromkeys(
        ("QuestionnaireDef", "Screening", "Answer", "Score", "Flag", "Need", "Barrier"),
        "models_screening",
    ),
    **dict.fromkeys(
        (
            "Service",
            "ServicePathway",
            "ServiceArea",
            "Suggestion",
            "Referral",
            "ReferralEvent",
            "Goal",
            "GoalReview",
        ),
        "models_referral",
    ),
    **dict.fromkeys(
        ("TransferRecord", "TransferSeen", "TransferConflict", "TransferSent"), "models_transfer"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"probhealth.store.{module}"), name)


def load_all() -> None:
    """Define every table (for checks that need the whole schema)."""
    import probhealth.store.models_referral
    import probhealth.store.models_screening
    import probhealth.store.models_transfer  # noqa: F401


__all__ = ["AuditEvent", "Consent", "Meta", "Person", "UTCDateTime", "load_all", *_LAZY]

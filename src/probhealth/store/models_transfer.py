"""Transfer tables: record identity across databases, versions seen, conflicts, bundles sent.
Imported on first use through ``probhealth.store.models`` (see its ``__getattr__``)."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from probhealth.store.models import UTCDateTime, fk, ts  # noqa: F401 - shared column helpers


class TransferRecord(SQLModel, table=True):
    """A record's identity across databases (``uid``) and its id here. Written when a record
    is first exported or imported; a person's uid is its own id and needs no row."""

    __tablename__ = "transfer_record"
    __table_args__ = (Index("ix_transfer_record_local", "entity", "local_id"),)
    entity: str = Field(primary_key=True)
    uid: str = Field(primary_key=True)
    local_id: str


class TransferSeen(SQLModel, table=True):
    """A version (content hash) of a record this database has sent or received: a later
    version from elsewhere that has seen ours replaces it; one neither has seen is a conflict."""

    __tablename__ = "transfer_seen"
    uid: str = Field(primary_key=True)
    hash: str = Field(primary_key=True)


class TransferConflict(SQLModel, table=True):
    """A version from a bundle that clashes with ours: kept whole, never applied unasked."""

    __tablename__ = "transfer_conflict"
    id: int | None = Field(default=None, primary_key=True)
    entity: str
    uid: str = Field(index=True)
    person_id: str = fk("person.id")  # erasing the person erases their conflicts too
    source: str  # the source database's id
    data: str  # JSON: the bundle's version of the record
    hash: str
    received_at: datetime = ts()
    resolved_at: datetime | None = ts(nullable=True)
    resolved_by: str | None = None
    resolution: str | None = None  # ours | theirs


class TransferSent(SQLModel, table=True):
    """Where a person's records went: one row per person per bundle (for erasure)."""

    __tablename__ = "transfer_sent"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(index=True)
    bundle_hash: str
    sent_at: datetime = ts()
    sent_by: str

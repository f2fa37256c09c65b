"""Transfer bundles: record identity across databases, versions seen, conflicts, bundles sent.
New tables only, so records of every other table keep their columns; existing records get
their identity when first exported (derived from the database id, nothing to backfill).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_record",
        sa.Column("entity", sa.String(), primary_key=True),
        sa.Column("uid", sa.String(), primary_key=True),
        sa.Column("local_id", sa.String(), nullable=False),
    )
    op.create_index("ix_transfer_record_local", "transfer_record", ["entity", "local_id"])
    op.create_table(
        "transfer_seen",
        sa.Column("uid", sa.String(), primary_key=True),
        sa.Column("hash", sa.String(), primary_key=True),
    )
    op.create_table(
        "transfer_conflict",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("uid", sa.String(), nullable=False),
        sa.Column(
            "person_id", sa.String(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("resolution", sa.String(), nullable=True),
    )
    op.create_index("ix_transfer_conflict_uid", "transfer_conflict", ["uid"])
    op.create_index("ix_transfer_conflict_person_id", "transfer_conflict", ["person_id"])
    op.create_table(
        "transfer_sent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("bundle_hash", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("sent_by", sa.String(), nullable=False),
    )
    op.create_index("ix_transfer_sent_person_id", "transfer_sent", ["person_id"])


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

"""Referral pathways: service directory, suggestions, referrals with history, goals; and a
``hidden`` mark on answers the final answers no longer show.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        batch.add_column(
            sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "service",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("fictional", sa.Boolean(), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "service_pathway",
        sa.Column(
            "service_id",
            sa.String(),
            sa.ForeignKey("service.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("pathway_id", sa.String(), primary_key=True),
    )
    op.create_index("ix_service_pathway_pathway_id", "service_pathway", ["pathway_id"])
    op.create_table(
        "service_area",
        sa.Column(
            "service_id",
            sa.String(),
            sa.ForeignKey("service.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("area_key", sa.String(), primary_key=True),
    )
    op.create_index("ix_service_area_area_key", "service_area", ["area_key"])
    op.create_table(
        "suggestion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.String(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screening.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("pathway_id", sa.String(), nullable=False),
        sa.Column("urgency", sa.String(), nullable=False),
        sa.Column("reasons", sa.String(), nullable=False),
        sa.Column("already_open", sa.Boolean(), nullable=False),
        sa.Column("rules_id", sa.String(), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("rules_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_suggestion_person_id", "suggestion", ["person_id"])
    op.create_index("ix_suggestion_screening_id", "suggestion", ["screening_id"])
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.String(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("pathway_id", sa.String(), nullable=False),
        sa.Column("service_id", sa.String(), nullable=True),
        sa.Column("self_referral", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("urgency", sa.String(), nullable=True),
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screening.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("reasons", sa.String(), nullable=False),
        sa.Column("follow_up_due", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("closed_reason", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_referral_person_id", "referral", ["person_id"])
    op.create_index("ix_referral_status_due", "referral", ["status", "follow_up_due"])
    op.create_table(
        "referral_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "referral_id",
            sa.Integer(),
            sa.ForeignKey("referral.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_referral_event_referral_id", "referral_event", ["referral_id"])
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.String(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("domain", sa.String(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_goal_person_id", "goal", ["person_id"])
    op.create_table(
        "goal_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("progress", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("reviewed_by", sa.String(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_goal_review_goal_id", "goal_review", ["goal_id"])


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

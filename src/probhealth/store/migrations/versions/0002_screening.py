"""Screenings: questionnaire versions, screenings, answers, scores, flags, needs, barriers.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_def",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("source_text", sa.String(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "screening",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.String(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("questionnaire_id", sa.String(), nullable=False),
        sa.Column("questionnaire_version", sa.Integer(), nullable=False),
        sa.Column("questionnaire_hash", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("setting", sa.String(), nullable=True),
        sa.Column("started_by", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("abandoned_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_screening_person_status", "screening", ["person_id", "status"])
    op.create_table(
        "answer",
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screening.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("item_id", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=True),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "score",
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screening.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("scale_id", sa.String(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(), nullable=True),
    )
    op.create_table(
        "flag",
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screening.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("flag_id", sa.String(), primary_key=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
    )
    for table in ("need", "barrier"):
        columns: list[sa.Column] = [  # type: ignore[type-arg]
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                "person_id",
                sa.String(),
                sa.ForeignKey("person.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column(
                "screening_id",
                sa.Integer(),
                sa.ForeignKey("screening.id", ondelete="SET NULL"),
                nullable=True,
            ),
        ]
        if table == "need":
            columns += [
                sa.Column("domain", sa.String(), nullable=False),
                sa.Column("severity", sa.String(), nullable=False),
                sa.Column("status", sa.String(), nullable=False),
                sa.Column("source", sa.String(), nullable=False),
                sa.Column("note", sa.String(), nullable=True),
                sa.Column("created_by", sa.String(), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
                sa.Column("updated_at", sa.DateTime(), nullable=False),
            ]
        else:
            columns += [
                sa.Column("type", sa.String(), nullable=False),
                sa.Column("source", sa.String(), nullable=False),
                sa.Column("note", sa.String(), nullable=True),
                sa.Column("created_by", sa.String(), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
                sa.Column("resolved_at", sa.DateTime(), nullable=True),
                sa.Column("resolved_by", sa.String(), nullable=True),
            ]
        op.create_table(table, *columns)
        op.create_index(f"ix_{table}_person_id", table, ["person_id"])


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

"""A screening is worked on by one session at a time: who holds it, from where, since when.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        batch.add_column(sa.Column("held_token", sa.String(), nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("held_host", sa.String(), nullable=True))
        batch.add_column(sa.Column("held_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        for name in ("held_at", "held_pid", "held_host", "held_by", "held_token"):
            batch.drop_column(name)

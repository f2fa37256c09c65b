"""A screening entered wrongly can be voided (issue 13 item 6): kept, with who voided it, when
and a coded reason (wrong-person | entered-in-error | duplicate | other, with a note).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("voided_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.String(), nullable=True))
        batch.add_column(sa.Column("void_note", sa.String(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

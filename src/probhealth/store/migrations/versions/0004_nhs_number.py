"""NHS number on person (optional, checked with its Modulus 11 check digit before it is stored).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("nhs_number", sa.String(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

"""Postal address on person (optional, one line; the postcode keeps its own field).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("address", sa.String(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

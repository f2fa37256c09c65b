"""Where the person is and what stage they are at (issue 12): person.nation (england | wales)
and person.stage (pre-sentence | community-order | suspended-sentence | licence |
post-sentence-supervision), both optional.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("nation", sa.String(), nullable=True))
        batch.add_column(sa.Column("stage", sa.String(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")

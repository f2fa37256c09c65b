"""Record digests in the audit log (issue 14 item 2): ``audit_event.records`` holds, for each
record a transaction changed, a digest of its content after the change (no values).

Records written before this revision get one baseline: ``record.baseline`` events carrying
the digest of every existing record, so ``audit verify --records`` covers them from now on.
A plain ADD COLUMN (not a batch copy): the append-only triggers stay in place.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("records", sa.String(), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    if conn.exec_driver_sql("SELECT 1 FROM audit_event LIMIT 1").first() is None:
        return  # a new database: its db.init event carries the baseline (store/migrate.py)
    from probhealth.store import audit, digests

    records: dict[str, dict[str, str | None]] = {}
    for table, key, first_form, _ in digests.legacy_scan(conn):  # 0010 moves these on
        records.setdefault(table.name, {})[key] = first_form
    for piece in digests.chunks(records):
        count = sum(len(v) for v in piece.values())
        audit.append_raw(
            conn,
            actor="probhealth",
            action="record.baseline",
            entity="records",
            detail=f'{{"records":{count}}}',
            records=digests.encode(piece),
        )


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")
